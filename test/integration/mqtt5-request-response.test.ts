// MQTT 5 request/response: a client that sets a response topic (under pipdu/response/) and correlation
// data gets the result there; a retained command is refused even when it arrives live. Both brokers.
import test from "ava";
import { connectClient, nextMessage } from "../helpers/mqtt-clients.ts";
import { BROKERS, startAgent, startBroker, testSettings } from "../helpers/system.ts";

for (const kind of BROKERS) {
  test(`[${kind}] a command with an MQTT 5 response topic gets its result there, with the correlation data`, async (t) => {
    const broker = await startBroker(t, kind);
    await startAgent(t, testSettings(t, { mqtt: { url: broker.url } }));
    const client = await connectClient(t, broker.url, { protocolVersion: 5, clientId: "farm42" });
    await client.subscribeAsync("pipdu/response/farm42/#", { qos: 1 });
    const reply = nextMessage(client, "pipdu/response/farm42/req-7");
    await client.publishAsync("pipdu/pdu1/outlet/5/set", "ON", {
      qos: 1,
      properties: {
        responseTopic: "pipdu/response/farm42/req-7",
        correlationData: Buffer.from("req-7"),
        userProperties: { source: "ci-farm" },
      },
    });
    const received = await reply;
    t.like(JSON.parse(received.payload), { outlet: 5, command: "on", status: "ok", state: "ON" });
    t.deepEqual(received.packet.properties?.correlationData, Buffer.from("req-7"));
  });

  test(`[${kind}] the agent refuses a retained command even when it arrives live (MQTT 5 retain-as-published)`, async (t) => {
    const broker = await startBroker(t, kind);
    const { sim } = await startAgent(t, testSettings(t, { mqtt: { url: broker.url } }));
    const client = await connectClient(t, broker.url, { protocolVersion: 5 });
    await client.subscribeAsync("pipdu/pdu1/result", { qos: 1 });
    const result = nextMessage(client, "pipdu/pdu1/result");
    await client.publishAsync("pipdu/pdu1/outlet/6/set", "ON", { qos: 1, retain: true });
    t.like(JSON.parse((await result).payload), { status: "error", error: { code: "retained_command" } });
    t.is(sim.firmware.relayMask & (1 << 5), 0, "outlet 6 not switched");
  });
}

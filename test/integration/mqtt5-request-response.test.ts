// MQTT 5 request/response: a client that sets a response topic (under pipdu/response/) and correlation
// data gets the result there; a response topic elsewhere is ignored; a retained command is refused even
// when it arrives live. Both brokers.
import test from "ava";
import { collectMessages, connectClient, nextMessage } from "../helpers/mqtt-clients.ts";
import { BROKERS, eventually, startAgent, startBroker, testSettings } from "../helpers/system.ts";

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
    t.deepEqual(JSON.parse(received.payload), {
      outlet: 5,
      command: "on",
      status: "ok",
      state: "ON",
      source: "ci-farm",
    });
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

  test(`[${kind}] a response topic outside <base>/response/ is ignored: no result there, the result topic has it, diagnostics count it`, async (t) => {
    const broker = await startBroker(t, kind);
    await startAgent(t, testSettings(t, { mqtt: { url: broker.url } }));
    const client = await connectClient(t, broker.url, { protocolVersion: 5 });
    const seen = collectMessages(client);
    await client.subscribeAsync(["pipdu/pdu1/info", "pipdu/pdu1/result", "pipdu/response/ci/ok"], { qos: 1 });
    const result = nextMessage(client, "pipdu/pdu1/result");
    // An attacker's aim: the agent writing its result onto a topic only the agent may write.
    await client.publishAsync(
      "pipdu/pdu1/outlet/5/set",
      JSON.stringify({ state: "ON", transaction: "evil" }),
      {
        qos: 1,
        properties: { responseTopic: "pipdu/pdu1/info", correlationData: Buffer.from("x") },
      },
    );
    t.like(JSON.parse((await result).payload), { transaction: "evil", status: "ok" });
    // Sentinel: a later command's response arrives only after the first was fully handled.
    const sentinel = nextMessage(client, "pipdu/response/ci/ok");
    await client.publishAsync("pipdu/pdu1/outlet/6/set", "ON", {
      qos: 1,
      properties: { responseTopic: "pipdu/response/ci/ok" },
    });
    await sentinel;
    t.false(
      seen.some((m) => m.topic === "pipdu/pdu1/info" && m.payload.includes("evil")),
      "nothing but info on the info topic",
    );
    await client.subscribeAsync("pipdu/pdu1/diagnostics", { qos: 1 });
    const diagnostics = await eventually("dropped counted", () => {
      const d = seen.filter((m) => m.topic === "pipdu/pdu1/diagnostics").at(-1);
      const value = d ? (JSON.parse(d.payload) as { dropped: number }) : undefined;
      return value && value.dropped > 0 ? value : undefined;
    });
    t.is(diagnostics.dropped, 1);
  });
}

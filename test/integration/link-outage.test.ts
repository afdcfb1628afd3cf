// The I2C link to the Mega fails completely for a while: the PDU goes offline without touching a relay,
// keeps retrying, and comes back online by itself.
import test from "ava";
import { collectMessages, connectClient } from "../helpers/mqtt-clients.ts";
import { eventually, startAgent, startBroker, testSettings } from "../helpers/system.ts";

test("after consecutive link failures the PDU is offline, relays untouched, and it returns online by itself", async (t) => {
  const broker = await startBroker(t, "embedded");
  const { sim } = await startAgent(t, testSettings(t, { mqtt: { url: broker.url } }));
  const client = await connectClient(t, broker.url, { protocolVersion: 4 });
  const seen = collectMessages(client);
  await client.subscribeAsync("pipdu/pdu1/#", { qos: 1 });
  await client.publishAsync("pipdu/pdu1/outlet/2/set", "ON", { qos: 1 });
  await eventually("outlet 2 on", () => (sim.firmware.relayMask === 0b10 ? true : undefined));

  sim.bus.faultRate = 1; // every transaction fails
  await eventually("offline", () =>
    seen.filter((m) => m.topic === "pipdu/pdu1/availability").at(-1)?.payload === "offline"
      ? true
      : undefined,
  );
  t.is(sim.firmware.relayMask, 0b10, "nothing switched while the link was down");
  const duringOutage = seen.length;

  sim.bus.faultRate = 0;
  await eventually("online again", () =>
    seen.slice(duringOutage).some((m) => m.topic === "pipdu/pdu1/availability" && m.payload === "online")
      ? true
      : undefined,
  );
  const state = await eventually(
    "outlet 2 republished",
    () => seen.slice(duringOutage).find((m) => m.topic === "pipdu/pdu1/outlet/2/state")?.payload,
  );
  t.is(state, "ON");
  t.is(sim.firmware.relayMask, 0b10);
  t.false(
    seen
      .slice(duringOutage)
      .some(
        (m) =>
          /^pipdu\/pdu1\/outlet\/\d+\/state$/.test(m.topic) &&
          m.payload === "ON" &&
          m.topic !== "pipdu/pdu1/outlet/2/state",
      ),
  );
});

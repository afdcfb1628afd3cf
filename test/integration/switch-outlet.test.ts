import test from "ava";
import {
  BROKERS,
  mosquittoPub,
  mosquittoSub,
  startAgent,
  startBroker,
  testSettings,
} from "../helpers/system.ts";

for (const kind of BROKERS) {
  test(`[${kind}] mosquitto_pub ON switches outlet 3 and mosquitto_sub sees its state and a result naming mqtt as its source`, async (t) => {
    const broker = await startBroker(t, kind);
    await startAgent(t, testSettings(t, { mqtt: { url: broker.url } }));
    const sub = mosquittoSub(broker.port, "pipdu/pdu1/result", 1, 10);
    const state = mosquittoSub(broker.port, "pipdu/pdu1/outlet/3/state", 2, 10);
    await Promise.all([sub.ready, state.ready]);
    await mosquittoPub(broker.port, "pipdu/pdu1/outlet/3/set", "ON");
    const lines = await sub.lines;
    t.is(lines.length, 1);
    const [topic, payload] = (lines[0] ?? "").split(/ (.*)/s);
    t.is(topic, "pipdu/pdu1/result");
    const { source, ...result } = JSON.parse(payload ?? "") as { source: string };
    t.deepEqual(result, { outlet: 3, command: "on", status: "ok", state: "ON" });
    // The embedded broker stamps the publisher's client id on commands (it cannot be forged); Mosquitto does not.
    if (kind === "embedded") t.regex(source, /^mqtt \S+$/);
    else t.is(source, "mqtt");
    t.deepEqual(await state.lines, ["pipdu/pdu1/outlet/3/state OFF", "pipdu/pdu1/outlet/3/state ON"]);
  });
}

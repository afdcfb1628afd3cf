// 100 PDUDaemon requests to one PDU at once, half pduclient TCP lines and half HTTP: every one is answered
// after its result, each outlet's commands are applied in the order the gateway sent them, and nothing
// happens on the PDU between a reboot's off and its on.
import test from "ava";
import { BROKERS, startAgent, startBroker, testSettings } from "./helpers/system.ts";
import { collectMessages, connectClient } from "./helpers/mqtt-clients.ts";
import { pduclientTcp, startGateway, waitForPdu } from "./gateway-harness.ts";

const COMMANDS = ["on", "reboot", "off", "reboot", "on", "off"] as const;

for (const kind of BROKERS) {
  test(`[${kind}] 100 concurrent requests to one PDU: all answered, per-outlet order kept, no reboot interleaved`, async (t) => {
    const broker = await startBroker(t, kind);
    const settings = testSettings(t, { mqtt: { url: broker.url } });
    const agent = await startAgent(t, settings);
    const gw = await startGateway(t, settings);
    await waitForPdu(gw.base, "pdu1", 16);
    const watcher = await connectClient(t, broker.url);
    const log = collectMessages(watcher);
    await watcher.subscribeAsync(
      ["pipdu/pdu1/outlet/+/set", "pipdu/pdu1/outlet/+/state", "pipdu/pdu1/result"],
      { qos: 1 },
    );
    for (let i = 0; i < 200 && log.length < 16; i++) await new Promise((r) => setTimeout(r, 10)); // the retained states
    const retained = log.length;

    const requests = Array.from({ length: 100 }, (_, i) => {
      const outlet = (i % 16) + 1;
      const command = COMMANDS[Math.floor(i / 16) % COMMANDS.length] ?? "on";
      return { i, outlet, command, tcp: i % 2 === 0 };
    });
    const replies = await Promise.all(
      requests.map(async (r) => {
        if (r.tcp)
          return (
            await pduclientTcp(
              gw.pdudaemonPort,
              `pdu1 ${String(r.outlet).padStart(2, "0")} ${r.command}${r.command === "reboot" ? " 0" : ""}`,
            )
          ).toString();
        const response = await fetch(
          `http://127.0.0.1:${gw.pdudaemonPort}/power/control/${r.command}?hostname=pdu1&port=${r.outlet}${r.command === "reboot" ? "&delay=0.05" : ""}`,
        );
        return `${response.status} ${await response.text()}`;
      }),
    );
    t.deepEqual(
      replies,
      requests.map((r) => (r.tcp ? "ack\n" : "200 OK - accepted request\n")),
    );

    const events = log.slice(retained);
    for (let i = 0; i < 100 && events.filter((m) => m.topic.endsWith("/result")).length < 100; i++)
      await new Promise((r) => setTimeout(r, 20));
    const sets = events
      .filter((m) => m.topic.endsWith("/set"))
      .map((m) => ({
        outlet: Number(m.topic.split("/")[3]),
        ...(JSON.parse(m.payload) as { action: string; transaction: string }),
      }));
    const results = events
      .filter((m) => m.topic.endsWith("/result"))
      .map(
        (m) =>
          JSON.parse(m.payload) as { outlet: number; command: string; transaction: string; status: string },
      );
    t.is(sets.length, 100);
    t.is(results.length, 100);
    t.true(results.every((r) => r.status === "ok"));
    // Per outlet, results come in the order the gateway published the commands.
    for (let n = 1; n <= 16; n++) {
      t.deepEqual(
        results.filter((r) => r.outlet === n).map((r) => r.transaction),
        sets.filter((s) => s.outlet === n).map((s) => s.transaction),
        `outlet ${n}`,
      );
    }
    t.is(
      results.filter((r) => r.command === "cycle").length,
      requests.filter((r) => r.command === "reboot").length,
    );
    // Between one result and the next, only the outlet of the next command changes state: nothing else runs
    // inside a reboot's off…on.
    let since: { topic: string; payload: string }[] = [];
    for (const m of events) {
      if (m.topic.endsWith("/set")) continue;
      if (!m.topic.endsWith("/result")) {
        since.push(m);
        continue;
      }
      const result = JSON.parse(m.payload) as { outlet: number; command: string };
      const others = since.filter((s) => s.topic !== `pipdu/pdu1/outlet/${result.outlet}/state`);
      t.deepEqual(others, [], `during ${result.command} of outlet ${result.outlet}`);
      if (result.command === "cycle") t.is(since.at(-1)?.payload, "ON");
      since = [];
    }
    const final = await agent.sim.controller.readRelays();
    t.deepEqual(
      final.slice(0, 16),
      Array.from({ length: 16 }, (_, i) => sets.filter((s) => s.outlet === i + 1).at(-1)?.action !== "off"),
    );
  });
}

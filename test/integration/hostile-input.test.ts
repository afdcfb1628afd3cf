// Hostile messages on every topic the agent reads (its command topics, its availability, Home Assistant's
// status), live and retained: none kills it, each command gets exactly one result, and a valid command is
// still obeyed afterwards. No side door: a protected outlet's power-on behaviour "off" needs force.
import test from "ava";
import type { AgentContext, AgentPlugin } from "../../pdu-agent/plugin.ts";
import { collectMessages, connectClient } from "../helpers/mqtt-clients.ts";
import {
  BROKERS,
  eventually,
  recordingLogger,
  startAgent,
  startBroker,
  testSettings,
} from "../helpers/system.ts";

const T = "pipdu/pdu1";

const HOSTILE: (string | Buffer)[] = [
  "{}",
  "[]",
  "null",
  '{"outlets":[null]}',
  '{"state":null}',
  '{"action":["on"]}',
  '{"__proto__":{"force":true},"state":"OFF"}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"action":"cancel","id":1e308}',
  '{"delay":1e999,"state":"ON"}',
  "9".repeat(400),
  Buffer.from([0xff, 0xfe, 0x00, 0x01]),
  Buffer.alloc(5000, 0x41),
  "online",
  "offline",
];

const TOPICS = [
  `${T}/outlet/1/set`,
  `${T}/outlet/99/set`,
  `${T}/outlet/x/set`,
  `${T}/set`,
  `${T}/outlet/1/power_on_behavior/set`,
  `${T}/outlet/0/power_on_behavior/set`,
  `${T}/availability`,
  "homeassistant/status",
];

for (const kind of BROKERS) {
  test(`[${kind}] hostile payloads on every topic the agent reads, live and retained, never stop it; a valid command still works`, async (t) => {
    const broker = await startBroker(t, kind);
    const { logger, lines } = recordingLogger();
    const { sim } = await startAgent(t, testSettings(t, { mqtt: { url: broker.url } }), [], { logger });
    const client = await connectClient(t, broker.url, { protocolVersion: 4 });
    const seen = collectMessages(client);
    await client.subscribeAsync([`${T}/result`, `${T}/diagnostics`], { qos: 1 });
    for (const retain of [false, true])
      for (const topic of TOPICS)
        for (const payload of HOSTILE) await client.publishAsync(topic, payload, { qos: 1, retain });
    // Sentinel: one valid command sent after all of them; commands are answered in order of arrival.
    await client.publishAsync(`${T}/outlet/2/set`, JSON.stringify({ state: "ON", transaction: "after" }), {
      qos: 1,
    });
    const results = await eventually("the valid command's result", () => {
      const all = seen.filter((m) => m.topic === `${T}/result`);
      return all.some((m) => m.payload.includes('"after"')) ? all : undefined;
    });
    t.like(JSON.parse(results.find((m) => m.payload.includes('"after"'))?.payload ?? "{}"), {
      status: "ok",
      state: "ON",
    });
    t.is(sim.firmware.relayMask & 0b10, 0b10, "outlet 2 switched");
    t.is(sim.firmware.relayMask & 0b1, 0, "outlet 1: no hostile payload switched it");
    t.false(
      lines.some((l) => l.includes("unexpected error")),
      `no handler threw:\n${lines.filter((l) => l.includes("unexpected")).join("\n")}`,
    );
    // Command topics: 6 of them × 15 payloads × live and retained, each answered exactly once.
    const answered = results.filter((m) => !m.payload.includes('"after"')).length;
    t.is(answered, 6 * HOSTILE.length * 2);
  });
}

test("a protected outlet's power-on behaviour 'off' needs force; on and last do not", async (t) => {
  const broker = await startBroker(t, "embedded");
  await startAgent(
    t,
    testSettings(t, {
      mqtt: { url: broker.url },
      pdu: { outletCount: 2 },
      outlets: [{ protected: true }, {}],
    }),
  );
  const client = await connectClient(t, broker.url, { protocolVersion: 4 });
  const seen = collectMessages(client);
  await client.subscribeAsync(`${T}/result`, { qos: 1 });
  const send = async (payload: string, tx: string) => {
    await client.publishAsync(`${T}/outlet/1/power_on_behavior/set`, payload, { qos: 1 });
    return eventually(`result ${tx}`, () => {
      const m = seen.find((r) => r.payload.includes(`"${tx}"`));
      return m ? (JSON.parse(m.payload) as Record<string, unknown>) : undefined;
    });
  };
  t.like(await send('{"power_on_behavior":"off","transaction":"a"}', "a"), {
    status: "error",
    command: "power_on_behavior",
    error: { code: "protected_outlet" },
  });
  t.like(await send('{"power_on_behavior":"last","transaction":"b"}', "b"), {
    status: "ok",
    power_on_behavior: "last",
  });
  t.like(await send('{"power_on_behavior":"off","force":true,"transaction":"c"}', "c"), {
    status: "ok",
    power_on_behavior: "off",
  });
});

/** A plugin that throws in every way it can. */
class Faulty implements AgentPlugin {
  readonly name = "faulty";
  start(context: AgentContext): Promise<void> {
    context.client.on("message", () => {
      try {
        throw new TypeError("a handler that throws");
      } catch (err) {
        context.reportError("faulty handler", err);
      }
    });
    return Promise.resolve();
  }
  announce(): Promise<void> {
    return Promise.reject(new Error("announce that fails"));
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

test("an exception in a plugin is logged with its stack and counted on diagnostics; the agent keeps working", async (t) => {
  const broker = await startBroker(t, "embedded");
  const { logger, lines } = recordingLogger();
  await startAgent(t, testSettings(t, { mqtt: { url: broker.url } }), [new Faulty()], { logger });
  const client = await connectClient(t, broker.url, { protocolVersion: 4 });
  const seen = collectMessages(client);
  await client.subscribeAsync(`${T}/#`, { qos: 1 });
  await client.publishAsync(`${T}/outlet/1/set`, "ON", { qos: 1 });
  await eventually("outlet 1 on", () =>
    seen.some((m) => m.topic === `${T}/outlet/1/state` && m.payload === "ON") ? true : undefined,
  );
  const diagnostics = await eventually("errors counted", () => {
    const d = seen.filter((m) => m.topic === `${T}/diagnostics`).at(-1);
    const v = d ? (JSON.parse(d.payload) as { errors: number }) : undefined;
    return v && v.errors >= 2 ? v : undefined;
  });
  t.true(diagnostics.errors >= 2);
  t.true(
    lines.some((l) => l.includes("unexpected error in faulty announce: Error: announce that fails\n    at ")),
  );
});

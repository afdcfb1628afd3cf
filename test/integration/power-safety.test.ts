// Power safety on a running agent: budget refusals, staggered all-on with cancellable pending actions,
// overload alarm and shedding, dead-load detection.
// Serial: each test judges timing windows (a 1 s check window, a stagger against the poll) on a running agent;
// eleven agents polling at once in one process made those windows unreliable on a loaded machine.
import test, { type ExecutionContext } from "ava";
import type { Settings } from "../../config/settings.ts";
import { collectMessages, connectClient, type Received } from "../helpers/mqtt-clients.ts";
import { eventually, startAgent, startBroker, testSettings } from "../helpers/system.ts";

const T = "pipdu/pdu1";
const amps = (a: number) => ({ watts: a * 230, noise: 0, inrush: 0 });

async function setup(t: ExecutionContext, overrides: Parameters<typeof testSettings>[1]) {
  const broker = await startBroker(t, "embedded");
  const settings: Settings = testSettings(t, {
    mqtt: { url: broker.url },
    pdu: { outletCount: 4 },
    ...overrides,
  });
  const running = await startAgent(t, settings);
  const client = await connectClient(t, broker.url, { protocolVersion: 4 });
  const seen = collectMessages(client);
  await client.subscribeAsync(`${T}/#`, { qos: 1 });
  const send = async (topic: string, body: Record<string, unknown>) => {
    const transaction = `t${Math.random().toString(36).slice(2)}`;
    await client.publishAsync(topic, JSON.stringify({ ...body, transaction }), { qos: 1 });
    return eventually(`result of ${JSON.stringify(body)}`, () => {
      const r = seen.find((m) => m.topic === `${T}/result` && m.payload.includes(transaction));
      return r ? (JSON.parse(r.payload) as Record<string, unknown>) : undefined;
    });
  };
  return { client, seen, send, running };
}

const last = (seen: Received[], topic: string) => seen.filter((m) => m.topic === topic).at(-1)?.payload;

test.serial(
  "switching on an outlet whose learned draw would exceed the budget is refused with overload",
  async (t) => {
    const { seen, send } = await setup(t, {
      safety: { maxCurrent: 1.5 },
      outlets: [{ load: amps(1) }, { load: amps(1) }, {}, {}],
    });
    t.like(await send(`${T}/outlet/2/set`, { state: "ON" }), { status: "ok" });
    await eventually("outlet 2 draws 1 A", () =>
      last(seen, `${T}/outlet/2/current`) === "1.000" ? true : undefined,
    );
    await eventually("a poll has seen it", () =>
      seen.filter((m) => m.topic === `${T}/telemetry`).length > 2 ? true : undefined,
    );
    t.like(await send(`${T}/outlet/2/set`, { state: "OFF" }), { status: "ok" });
    t.like(await send(`${T}/outlet/1/set`, { state: "ON" }), { status: "ok" });
    await eventually("outlet 1 draws 1 A", () =>
      last(seen, `${T}/outlet/1/current`) === "1.000" ? true : undefined,
    );
    const refused = await send(`${T}/outlet/2/set`, { state: "ON" });
    t.like(refused, { status: "error", outlet: 2, error: { code: "overload" } });
    t.regex((refused["error"] as { message: string }).message, /over the 1\.5 A budget/);
    t.is(last(seen, `${T}/outlet/2/state`), "OFF");
  },
);

test.serial(
  "all_on switches outlets one by one as pending actions; a cancelled one is skipped and the all_on still answers ok",
  async (t) => {
    const { seen, send, client } = await setup(t, { safety: { staggerDelay: 2 } });
    const transaction = "all-1";
    await client.publishAsync(`${T}/set`, JSON.stringify({ action: "all_on", transaction }), { qos: 1 });
    const pending = await eventually("three pending actions", () => {
      const list = JSON.parse(last(seen, `${T}/pending`) ?? "[]") as {
        id: number;
        outlet: number;
        action: string;
      }[];
      return list.length === 3 ? list : undefined;
    });
    t.deepEqual(
      pending.map((p) => [p.outlet, p.action]),
      [
        [2, "on"],
        [3, "on"],
        [4, "on"],
      ],
    );
    const outlet4 = pending.find((p) => p.outlet === 4);
    t.like(await send(`${T}/set`, { action: "cancel", id: outlet4?.id }), {
      status: "ok",
      cancelled: [outlet4?.id],
    });
    const result = await eventually("all_on result", () => {
      const r = seen.find((m) => m.topic === `${T}/result` && m.payload.includes(transaction));
      return r ? (JSON.parse(r.payload) as Record<string, unknown>) : undefined;
    });
    t.like(result, {
      command: "all_on",
      status: "ok",
      outlets: { "1": "ON", "2": "ON", "3": "ON", "4": "OFF" },
      skipped: { "4": { code: "cancelled" } },
    });
    t.is(result["errors"], undefined);
    t.is(last(seen, `${T}/pending`), "[]");
  },
);

test.serial("a sustained overload raises the alarm and sheds the lowest-priority outlet", async (t) => {
  const { seen, send } = await setup(t, {
    safety: { maxCurrent: 1.5, overloadHold: 0.5, shed: true },
    outlets: [{ load: amps(1), priority: 9 }, { load: amps(1), priority: 1 }, {}, {}],
  });
  await send(`${T}/outlet/1/set`, { state: "ON" });
  await send(`${T}/outlet/2/set`, { state: "ON" });
  const alarm = await eventually("alarm raised", () =>
    seen.find((m) => m.topic === `${T}/alarm` && m.payload.includes('"active":true')),
  );
  t.like(JSON.parse(alarm.payload), { active: true, limit: 1.5, shed: [2] });
  await eventually("outlet 2 shed", () => (last(seen, `${T}/outlet/2/state`) === "OFF" ? true : undefined));
  t.true(seen.some((m) => m.topic === `${T}/result` && m.payload.includes('"transaction":"overload-shed"')));
  await eventually(
    "alarm cleared",
    () =>
      (JSON.parse(last(seen, `${T}/alarm`) ?? "{}") as { active?: boolean }).active === false || undefined,
  );
  t.is(last(seen, `${T}/outlet/1/state`), "ON");
});

test.serial("an outlet switched on that draws nothing is reported as a dead load", async (t) => {
  const { seen, send } = await setup(t, {
    safety: { checkWindow: 1 },
    outlets: [{ load: amps(0) }, {}, {}, {}],
  });
  t.is(last(seen, `${T}/outlet/1/fault`) ?? "none", "none");
  await send(`${T}/outlet/1/set`, { state: "ON" });
  await eventually("dead_load", () => (last(seen, `${T}/outlet/1/fault`) === "dead_load" ? true : undefined));
  t.is(last(seen, `${T}/outlet/2/fault`), "none");
});

/** Learn each outlet's draw: switch it on, wait for a poll to see it, switch it off again. */
async function learnDraws(
  seen: Received[],
  send: (topic: string, body: Record<string, unknown>) => Promise<Record<string, unknown>>,
  outlets: number[],
) {
  for (const n of outlets) {
    await send(`${T}/outlet/${n}/set`, { state: "ON" });
    await eventually(`outlet ${n} draws 1 A`, () =>
      last(seen, `${T}/outlet/${n}/current`) === "1.000" ? true : undefined,
    );
    await send(`${T}/outlet/${n}/set`, { state: "OFF" });
  }
}

test.serial(
  "three ONs sent back to back over MQTT cannot all pass a 2.5 A budget with 1 A loads",
  async (t) => {
    const { seen, send, client } = await setup(t, {
      safety: { maxCurrent: 2.5 },
      outlets: [{ load: amps(1) }, { load: amps(1) }, { load: amps(1) }, {}],
    });
    await learnDraws(seen, send, [1, 2, 3]);
    // Published in one go, as mosquitto_pub in a loop would: no poll can run between them.
    await Promise.all(
      [1, 2, 3].map((n) =>
        client.publishAsync(`${T}/outlet/${n}/set`, JSON.stringify({ state: "ON", transaction: `b${n}` }), {
          qos: 1,
        }),
      ),
    );
    const results = await eventually("three results", () => {
      const r = [1, 2, 3].map((n) =>
        seen.find((m) => m.topic === `${T}/result` && m.payload.includes(`"b${n}"`)),
      );
      return r.every(Boolean)
        ? r.map((m) => JSON.parse(m?.payload ?? "{}") as Record<string, unknown>)
        : undefined;
    });
    t.deepEqual(
      results.map((r) => r["status"]),
      ["ok", "ok", "error"],
    );
    t.like(results[2], { outlet: 3, error: { code: "overload" } });
    t.is(last(seen, `${T}/outlet/3/state`), "OFF");
  },
);

test.serial(
  "ALL_ON with a stagger shorter than the poll interval stops at the budget and answers ok with what it skipped",
  async (t) => {
    const { seen, send } = await setup(t, {
      telemetry: { interval: 0.2 },
      safety: { maxCurrent: 2.5 },
      outlets: [
        { load: amps(1), onDelay: 0.01 },
        { load: amps(1), onDelay: 0.01 },
        { load: amps(1), onDelay: 0.01 },
        { load: amps(1), onDelay: 0.01 },
      ],
    });
    await learnDraws(seen, send, [1, 2, 3, 4]);
    const result = await send(`${T}/set`, { action: "all_on" });
    t.like(result, {
      command: "all_on",
      status: "ok",
      outlets: { "1": "ON", "2": "ON", "3": "OFF", "4": "OFF" },
      skipped: { "3": { code: "overload" }, "4": { code: "overload" } },
    });
  },
);

test.serial(
  "ALL_OFF with a protected outlet on answers ok, switches the others off and names the one it skipped",
  async (t) => {
    const { send } = await setup(t, { outlets: [{}, { protected: true }, {}, {}] });
    for (const n of [1, 2, 3]) await send(`${T}/outlet/${n}/set`, { state: "ON" });
    const result = await send(`${T}/set`, { action: "all_off" });
    t.regex(String(result.source), /^mqtt( |$)/);
    t.like(result, {
      command: "all_off",
      status: "ok",
      outlets: { "1": "OFF", "2": "ON", "3": "OFF", "4": "OFF" },
      skipped: { "2": { code: "protected_outlet" } },
    });
  },
);

test.serial(
  "a dead load is reported, then cleared (fault none published) when the outlet is switched off",
  async (t) => {
    const { seen, send } = await setup(t, {
      safety: { checkWindow: 1 },
      outlets: [{ load: amps(0) }, {}, {}, {}],
    });
    await send(`${T}/outlet/1/set`, { state: "ON" });
    await eventually("dead_load", () =>
      last(seen, `${T}/outlet/1/fault`) === "dead_load" ? true : undefined,
    );
    await send(`${T}/outlet/1/set`, { state: "OFF" });
    await eventually("fault cleared", () =>
      last(seen, `${T}/outlet/1/fault`) === "none" ? true : undefined,
    );
    t.is(last(seen, `${T}/outlet/1/fault`), "none");
  },
);

test.serial(
  "a 5 W load (a small router) is not flagged as a dead load under the default threshold",
  async (t) => {
    const { seen, send } = await setup(t, {
      safety: { checkWindow: 1 },
      outlets: [{ load: { watts: 5, noise: 0, inrush: 0 } }, { load: amps(0) }, {}, {}],
    });
    await send(`${T}/outlet/1/set`, { state: "ON" });
    await send(`${T}/outlet/2/set`, { state: "ON" });
    // Sentinel: outlet 2 (truly no load) switched at the same time reaches its verdict after the same window.
    await eventually("outlet 2 dead_load", () =>
      last(seen, `${T}/outlet/2/fault`) === "dead_load" ? true : undefined,
    );
    t.is(last(seen, `${T}/outlet/1/fault`), "none");
    t.is(last(seen, `${T}/outlet/1/current`), "0.022", "about 5 W at 230 V");
  },
);

test.serial("cancelling the on still to come of a protected outlet's forced cycle needs force", async (t) => {
  const { seen, send, client } = await setup(t, { outlets: [{ protected: true }, {}, {}, {}] });
  await send(`${T}/outlet/1/set`, { state: "ON" });
  await client.publishAsync(
    `${T}/outlet/1/set`,
    JSON.stringify({ action: "cycle", delay: 30, force: true, transaction: "fc" }),
    { qos: 1 },
  );
  const pending = await eventually("the cycle's on pending", () => {
    const list = JSON.parse(last(seen, `${T}/pending`) ?? "[]") as { id: number }[];
    return list[0];
  });
  t.like(await send(`${T}/set`, { action: "cancel", id: pending.id }), {
    status: "error",
    error: { code: "protected_outlet" },
    cancelled: [],
  });
  t.like(await send(`${T}/set`, { action: "cancel", id: pending.id, force: true }), {
    status: "ok",
    cancelled: [pending.id],
  });
});

test.serial("past the pending cap a delayed command is refused with too_many_pending", async (t) => {
  const { send, client } = await setup(t, { commands: { maxPending: 2 } });
  for (const n of [1, 2])
    await client.publishAsync(`${T}/outlet/${n}/set`, JSON.stringify({ state: "ON", delay: 600 }), {
      qos: 1,
    });
  // The third arrives after the first two on the same connection, so they are registered already.
  t.like(await send(`${T}/outlet/3/set`, { state: "ON", delay: 600 }), {
    status: "error",
    error: { code: "too_many_pending" },
  });
});

// Power safety on a running agent: budget refusals, staggered all-on with cancellable pending actions,
// overload alarm and shedding, dead-load detection.
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

test("switching on an outlet whose learned draw would exceed the budget is refused with overload", async (t) => {
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
});

test("all_on switches outlets one by one as pending actions, and a pending one can be cancelled", async (t) => {
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
    status: "error",
    outlets: { "1": "ON", "2": "ON", "3": "ON", "4": "OFF" },
    errors: { "4": { code: "cancelled" } },
  });
  t.is(last(seen, `${T}/pending`), "[]");
});

test("a sustained overload raises the alarm and sheds the lowest-priority outlet", async (t) => {
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

test("an outlet switched on that draws nothing is reported as a dead load", async (t) => {
  const { seen, send } = await setup(t, {
    safety: { checkWindow: 1 },
    outlets: [{ load: amps(0) }, {}, {}, {}],
  });
  t.is(last(seen, `${T}/outlet/1/fault`) ?? "none", "none");
  await send(`${T}/outlet/1/set`, { state: "ON" });
  await eventually("dead_load", () => (last(seen, `${T}/outlet/1/fault`) === "dead_load" ? true : undefined));
  t.is(last(seen, `${T}/outlet/2/fault`), "none");
});

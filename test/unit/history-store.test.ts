import test from "ava";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "../../config/load.ts";
import { silentLogger } from "../../log/logger.ts";
import { EnergyPeriods, resolveTimezone } from "../../gateway/history/energy-periods.ts";
import { decodeHistory, encodeHistory } from "../../gateway/history/history-file.ts";
import { HistoryService, type LiveReadings } from "../../gateway/history/history-service.ts";
import { DEFAULT_TIERS, TieredHistory } from "../../gateway/history/tiered-history.ts";

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0) / 1000; // a whole hour, in seconds

/** Total = outlet 1 + outlet 2; outlet 2 draws twice what outlet 1 does. */
function sample(h: TieredHistory, t: number, watts: number): void {
  h.record(t, [watts * 3, watts, watts * 2], [watts / 77, watts / 230, watts / 115]);
}

test("the minute and hour tiers hold the mean of the seconds they cover", (t) => {
  const h = new TieredHistory(3);
  for (let s = 0; s < 2 * 3600; s++) sample(h, T0 + s, s < 60 ? 100 : s < 120 ? 200 : 50);
  const minutes = h.query(1, "power", T0 + 2 * 3600 - 1, 3 * 3600);
  t.is(minutes?.resolution, 60);
  t.deepEqual(minutes?.points.slice(0, 3), [
    [T0, 100],
    [T0 + 60, 200],
    [T0 + 120, 50],
  ]);
  const total = h.query(0, "power", T0 + 2 * 3600 - 1, 3 * 3600);
  t.deepEqual(total?.points[1], [T0 + 60, 600]);
  const hours = h.query(2, "power", T0 + 2 * 3600 - 1, 7 * 86400);
  t.is(hours?.resolution, 3600);
  // First hour: one minute at 100 W, one at 200 W, 58 at 50 W (outlet 2 doubles it); the second hour is still filling.
  t.deepEqual(hours?.points, [
    [T0, Math.round(((100 * 60 + 200 * 60 + 50 * 3480) / 3600) * 2 * 1000) / 1000],
    [T0 + 3600, 100],
  ]);
  const seconds = h.query(1, "power", T0 + 2 * 3600 - 1, 600);
  t.is(seconds?.resolution, 1);
  t.is(seconds?.points.length, 600);
  t.deepEqual(seconds?.points.at(-1), [T0 + 2 * 3600 - 1, 50]);
  const amps = h.query(1, "current", T0 + 2 * 3600 - 1, 60);
  t.is(amps?.points.at(-1)?.[1], Math.round((50 / 230) * 1000) / 1000);
});

test("a gap in the samples is a null point, and nothing is answered before the first sample", (t) => {
  const h = new TieredHistory(2);
  for (let s = 0; s < 10; s++) h.record(T0 + s, [5, 5], [0, 0]);
  h.record(T0 + 11, [6, 6], [0, 0]); // one second skipped by a late timer: held, not a gap
  t.deepEqual(h.query(1, "power", T0 + 11, 900)?.points.slice(-3), [
    [T0 + 9, 5],
    [T0 + 10, 6],
    [T0 + 11, 6],
  ]);
  for (let s = 20; s < 30; s++) h.record(T0 + s, [7, 7], [0, 0]);
  const answer = h.query(1, "power", T0 + 29, 900);
  t.deepEqual(answer?.points[0], [T0, 5]);
  t.deepEqual(answer?.points[15], [T0 + 15, null]);
  t.deepEqual(answer?.points.at(-1), [T0 + 29, 7]);
  t.is(answer?.points.length, 30);
});

test("memory stays fixed however long it runs, and old points leave each tier", (t) => {
  const h = new TieredHistory(17);
  const power = new Array<number>(17).fill(10);
  const bytes = h.bytes;
  for (let s = 0; s < 3 * 86400; s++) h.record(T0 + s, power, power);
  t.is(h.bytes, bytes);
  t.true(bytes < 1_000_000, `${bytes} bytes for a 16-outlet PDU`);
  const now = T0 + 3 * 86400 - 1;
  t.is(h.query(0, "power", now, 900)?.points.length, 900);
  const twoDays = h.query(0, "power", now, 48 * 3600)?.points ?? [];
  t.is(twoDays.length, 2880);
  t.is(twoDays[0]?.[0], Math.floor(now / 60) * 60 - 2879 * 60);
  t.is(h.query(0, "power", now, 90 * 86400)?.points.length, 72);
});

test("the file of a PDU has one size whatever it holds, and reads back to the same answers", (t) => {
  const h = new TieredHistory(17);
  const energy = new EnergyPeriods(17, "UTC");
  const empty = encodeHistory({ pdu: "pdu1", history: h, energy }).length;
  for (let s = 0; s < 86400; s += 7) {
    h.record(T0 + s, new Array<number>(17).fill(s % 300), new Array<number>(17).fill(1));
    energy.observe((T0 + s) * 1000, new Array<number>(17).fill(s / 1000));
  }
  const saved = encodeHistory({ pdu: "pdu1", history: h, energy });
  t.true(Math.abs(saved.length - empty) < 4096, "only the energy header may grow, and it is bounded");
  const back = decodeHistory(Buffer.from(saved), DEFAULT_TIERS, "UTC");
  const now = T0 + 86400;
  for (const range of [900, 86400, 30 * 86400])
    t.deepEqual(back?.history.query(3, "power", now, range), h.query(3, "power", now, range));
  t.deepEqual(back?.energy.summary(now * 1000), energy.summary(now * 1000));
  t.is(decodeHistory(Buffer.from("not a history file"), DEFAULT_TIERS, "UTC"), null);
});

test("energy lands on the local day it was used; a counter that goes back restarts without a negative", (t) => {
  const e = new EnergyPeriods(3, "Europe/Berlin"); // UTC+1 in November
  const at = (iso: string) => Date.parse(iso);
  e.observe(at("2026-11-22T22:30:00Z"), [0, 10, 20]); // 23:30 local on the 22nd: first sight, counts nothing
  e.observe(at("2026-11-22T22:59:00Z"), [0, 10.5, 20]); // 23:59 local: 0.5 kWh on the 22nd
  e.observe(at("2026-11-22T23:01:00Z"), [0, 11, 21]); // 00:01 local on the 23rd
  e.observe(at("2026-11-23T12:00:00Z"), [0, 3, 21.25]); // outlet 1's counter restarted (a new agent)
  e.observe(at("2026-11-23T13:00:00Z"), [0, 3.5, 21.25]);
  const summary = e.summary(at("2026-11-23T14:00:00Z"));
  t.deepEqual(summary, {
    timezone: "Europe/Berlin",
    today: { period: "2026-11-23", kwh: [2.25, 1, 1.25] },
    yesterday: { period: "2026-11-22", kwh: [0.5, 0.5, 0] },
    month: { period: "2026-11", kwh: [2.75, 1.5, 1.25] },
  });
  // In UTC the same counters make other days.
  const utc = new EnergyPeriods(3, "UTC");
  utc.observe(at("2026-11-22T22:59:00Z"), [0, 10.5, 20]);
  utc.observe(at("2026-11-22T23:01:00Z"), [0, 11, 21]);
  t.deepEqual(utc.summary(at("2026-11-22T23:30:00Z")).today.kwh, [1.5, 0.5, 1]);
  t.is(resolveTimezone("Europe/Berlin"), "Europe/Berlin");
  t.throws(() => resolveTimezone("Mars/Olympus_Mons"), { instanceOf: RangeError });
});

function readings(watts: () => number, energy: () => number): () => LiveReadings[] {
  return () => [
    {
      pdu: "pdu1",
      live: true,
      outlets: [1, 2].map((number) => ({ number, power: watts() * number, current: 0.1, energy: energy() })),
    },
    { pdu: "gone", live: false, outlets: [{ number: 1, power: 1, current: 1, energy: 1 }] },
  ];
}

test("a restart keeps the history and the energy by day; offline PDUs record nothing", async (t) => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "history-")), "history");
  let now = T0 * 1000;
  let kwh = 1;
  const options = {
    dir,
    readings: readings(
      () => 40,
      () => kwh,
    ),
    timezone: "UTC",
    logger: silentLogger(),
    now: () => now,
  };
  const first = new HistoryService(options);
  await first.start();
  for (let s = 0; s < 180; s++, now += 1000, kwh += 0.001) first.tick();
  await first.stop();
  t.deepEqual(fs.readdirSync(dir), ["pdu1.bin"]);
  const before = first.query("pdu1", 0, "power", 3600);
  t.deepEqual(before?.points[0], [T0, 120]);

  const second = new HistoryService(options);
  await second.start();
  t.teardown(() => second.stop());
  t.deepEqual(second.query("pdu1", 0, "power", 3600), before);
  t.deepEqual(second.query("pdu1", 2, "power", 900)?.points.length, 180);
  t.deepEqual(second.energy("pdu1")?.today.kwh, [0.358, 0.179, 0.179]);
  t.is(second.query("gone", 0, "power", 900), null);
});

test("beyond the PDU limit the one heard from least recently is dropped, from memory and disk", async (t) => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "history-")), "history");
  let now = T0 * 1000;
  let live = ["a", "b"];
  const service = new HistoryService({
    dir,
    readings: () =>
      live.map((pdu) => ({ pdu, live: true, outlets: [{ number: 1, power: 1, current: 0, energy: 0 }] })),
    timezone: "UTC",
    logger: silentLogger(),
    now: () => now,
    maxPdus: 2,
  });
  await service.start();
  service.tick();
  await service.stop();
  t.deepEqual(fs.readdirSync(dir).sort(), ["a.bin", "b.bin"]);
  const bytes = service.bytes;
  await service.start();
  now += 1000;
  live = ["b"];
  service.tick();
  now += 1000;
  live = ["c"];
  service.tick();
  await service.stop();
  t.is(service.bytes, bytes);
  t.false(service.has("a"));
  t.true(service.has("b") && service.has("c"));
  t.deepEqual(fs.readdirSync(dir).sort(), ["b.bin", "c.bin"]);
});

test("gateway.timezone takes an IANA zone, unset for the system's, and refuses anything else at start-up", (t) => {
  t.is(loadConfig({ env: {} }).settings.gateway.timezone, null);
  t.is(
    loadConfig({ env: { PIPDU_GATEWAY_TIMEZONE: "Europe/Berlin" } }).settings.gateway.timezone,
    "Europe/Berlin",
  );
  const error = t.throws(() => loadConfig({ env: { PIPDU_GATEWAY_TIMEZONE: "Mars/Olympus_Mons" } }), {
    instanceOf: ConfigError,
  });
  t.regex(error.problems.join("\n"), /gateway\.timezone .*"Mars\/Olympus_Mons".*IANA time zone/);
});

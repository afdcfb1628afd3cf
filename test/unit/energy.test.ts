import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { EnergyMeter } from "../../pdu-agent/energy-meter.ts";
import { EnergyStore } from "../../pdu-agent/energy-store.ts";
import { ChangeFilter } from "../../pdu-agent/change-filter.ts";

function dir(t: { teardown: (f: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-energy-"));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test("1 kW for one hour integrates to 1 kWh", (t) => {
  const meter = new EnergyMeter([0], 5000);
  for (let s = 0; s <= 3600; s++) meter.add(s * 1000, [1000]);
  t.true(Math.abs((meter.values()[0] ?? 0) - 1) < 1e-9);
});

test("the trapezoidal rule averages a ramp", (t) => {
  const meter = new EnergyMeter([0.5], 5000);
  meter.add(0, [0]);
  meter.add(3600, [2000]); // 3.6 s from 0 W to 2 kW: 1 Wh
  t.true(Math.abs((meter.values()[0] ?? 0) - 0.501) < 1e-9);
});

test("a gap longer than the limit and a clock going backwards add nothing", (t) => {
  const meter = new EnergyMeter([1], 5000);
  meter.add(0, [1000]);
  meter.add(60_000, [1000]);
  meter.add(30_000, [1000]);
  t.is(meter.values()[0], 1);
});

test("saved counters come back on load", async (t) => {
  const store = new EnergyStore(dir(t), "rack1");
  await store.save([1.25, 0, 3]);
  t.deepEqual((await store.load(3)).kwh, [1.25, 0, 3]);
  t.deepEqual((await store.load(4)).kwh, [1.25, 0, 3, 0], "an outlet added later starts at 0");
});

test("a torn main file falls back to the backup copy, never to zero, and is set aside", async (t) => {
  const d = dir(t);
  const store = new EnergyStore(d, "rack1");
  await store.save([1, 2]);
  await store.save([1.5, 2.5]);
  fs.writeFileSync(store.file, '{"version":1,"kwh":{"1":');
  const loaded = await new EnergyStore(d, "rack1").load(2);
  t.deepEqual(loaded.kwh, [1, 2]);
  t.is(loaded.reset, null);
  t.is(loaded.problems.length, 1);
  t.true(loaded.problems[0]?.startsWith(`${store.file}: not valid JSON`));
  t.true(
    fs.readdirSync(d).some((f) => f.startsWith("energy-rack1.json.corrupt-")),
    "kept for a person to look at",
  );
});

test("loading takes the higher of the file and its backup, so a counter never goes backwards", async (t) => {
  const store = new EnergyStore(dir(t), "rack1");
  await store.save([5, 1]);
  await store.save([4, 2]); // as if the main file had been rolled back by hand
  t.deepEqual((await store.load(2)).kwh, [5, 2]);
});

test("a missing state directory means fresh counters, without a reset to announce", async (t) => {
  const loaded = await new EnergyStore(path.join(dir(t), "nope"), "x").load(2);
  t.deepEqual(loaded, { kwh: [0, 0], problems: [], reset: null });
});

test('a value of the wrong kind ("kwh": null) is named with its file; with both copies bad the counters restart and say why', async (t) => {
  const d = dir(t);
  const store = new EnergyStore(d, "rack1");
  fs.writeFileSync(store.file, JSON.stringify({ version: 1, savedAt: "x", kwh: { "1": 2, "2": null } }));
  fs.writeFileSync(`${store.file}.bak`, JSON.stringify({ version: 1, savedAt: "x", kwh: { "1": -3 } }));
  const loaded = await store.load(2);
  t.deepEqual(loaded.kwh, [0, 0]);
  t.regex(
    loaded.problems[0] ?? "",
    /energy-rack1\.json: kwh\["2"\] is null; expected a number of kWh ≥ 0; set aside as energy-rack1\.json\.corrupt-/,
  );
  t.regex(loaded.problems[1] ?? "", /energy-rack1\.json\.bak: kwh\["1"\] is -3/);
  t.truthy(loaded.reset);
  t.false(fs.existsSync(store.file), "the bad pair is renamed, not overwritten by the next save");
  t.is(fs.readdirSync(d).filter((f) => f.includes(".corrupt-")).length, 2);
});

test("the change filter publishes first values, moves beyond the deadband and stale values", (t) => {
  const f = new ChangeFilter(60_000);
  t.true(f.offer("p", 100, 1, 0));
  t.false(f.offer("p", 100.5, 1, 1000));
  t.true(f.offer("p", 101.2, 1, 2000));
  t.false(f.offer("p", 101.2, 1, 30_000));
  t.true(f.offer("p", 101.2, 1, 62_000), "re-sent after maxAge");
  t.true(f.offer("s", "ON", 0, 0));
  t.false(f.offer("s", "ON", 0, 1));
  t.true(f.offer("s", "OFF", 0, 2));
  f.reset();
  t.true(f.offer("s", "OFF", 0, 3));
});

// The pdu-agent SIGKILLed in the middle of a command and in the middle of energy writes: on restart no relay
// has moved and no energy counter is lower than anything published or saved before the kill.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import test from "ava";
import { EnergyStore } from "../pdu-agent/energy-store.ts";
import {
  T,
  allStates,
  command,
  maskToStates,
  numericSeries,
  observe,
  relayTruth,
  results,
  seedFromEnv,
  seededRandom,
  setRelayTruth,
  sleep,
  startAgentProcess,
  waitOnline,
} from "./helpers/faults.ts";
import { BROKERS, ROOT, eventually, exited, startBroker, tempDir } from "./helpers/system.ts";

for (const kind of BROKERS) {
  test(`[${kind}] an agent killed between the off and the on of a cycle leaves that outlet off, switches nothing else and never sends the cycle's result`, async (t) => {
    const broker = await startBroker(t, kind);
    const stateDir = tempDir(t);
    const initial = (1 << 6) | (1 << 2) | (1 << 11); // outlets 3, 7, 12 on
    setRelayTruth(stateDir, initial);
    const obs = await observe(t, broker.url);
    const agent = startAgentProcess(t, broker.url, stateDir);
    await waitOnline(obs.seen);
    await allStates(obs.seen);

    const from = obs.seen.length;
    await obs.client.publishAsync(
      `${T}/outlet/7/set`,
      JSON.stringify({ action: "cycle", delay: 3, transaction: "killed-cycle" }),
      { qos: 1 },
    );
    await eventually("the cycle's off", () =>
      obs.seen.slice(from).some((m) => m.topic === `${T}/outlet/7/state` && m.payload === "OFF")
        ? true
        : undefined,
    );
    agent.kill("SIGKILL");
    await exited(agent);
    const afterKill = relayTruth(stateDir);
    t.is(afterKill, initial & ~(1 << 6), "outlet 7 stays off, every other relay as it was");

    const restartFrom = obs.seen.length;
    startAgentProcess(t, broker.url, stateDir);
    await waitOnline(obs.seen, restartFrom);
    t.deepEqual(await allStates(obs.seen, restartFrom), maskToStates(afterKill));
    await sleep(3500); // past the moment the cycle would have switched back on
    t.like(await command(obs, 1, { state: "OFF" }), { status: "ok" }); // a round trip through the agent
    t.is(relayTruth(stateDir), afterKill, "the restarted agent did not finish the cycle");
    t.false(
      results(obs.seen, from).some((r) => r.transaction === "killed-cycle"),
      "the interrupted cycle has no result",
    );
  });
}

/** The energy file and its backup as the agent would load them, per outlet the higher. */
async function savedEnergy(stateDir: string): Promise<number[]> {
  return (await new EnergyStore(stateDir, "pdu1").load(16)).kwh;
}

test("an agent killed at 20 random moments under load never publishes or loads an energy counter lower than one published or saved before", async (t) => {
  const kind = BROKERS.at(-1) ?? "embedded";
  const broker = await startBroker(t, kind);
  const stateDir = tempDir(t);
  const random = seededRandom(seedFromEnv(t));
  // Three heavy loads (3.3 kW together, within a 16 A feed) so counters move in every poll.
  const loads = JSON.stringify([1, 2, 3].map(() => ({ load: { watts: 1100, noise: 20, inrush: 0 } })));
  setRelayTruth(stateDir, 0b111);
  const env = {
    PIPDU_OUTLETS: loads,
    PIPDU_ENERGY_SAVE_INTERVAL: "1",
    PIPDU_TELEMETRY_INTERVAL: "0.1",
    PIPDU_TELEMETRY_DEADBAND_ENERGY: "0",
  };
  const obs = await observe(t, broker.url);
  const highest = new Array<number>(16).fill(0);
  let regressions = 0;
  let killsAfterSave = 0;
  const iterations = 20;

  for (let i = 0; i <= iterations; i++) {
    const fileBefore = await savedEnergy(stateDir);
    const from = obs.seen.length;
    const agent = startAgentProcess(t, broker.url, stateDir, env);
    await waitOnline(obs.seen, from);
    const first = await eventually("energy published after the start", () => {
      const s = numericSeries(obs.seen, "energy", from, 3);
      return s.every((x) => x.length > 0) ? s.map((x) => x[0] ?? 0) : undefined;
    });
    for (let o = 0; o < 3; o++) {
      // The value the agent starts from: never below what was published before the kill or what was saved.
      if ((first[o] ?? 0) < (highest[o] ?? 0) - 1e-9 || (first[o] ?? 0) < (fileBefore[o] ?? 0) - 5e-5) {
        regressions++;
        t.log(
          `iteration ${i}, outlet ${o + 1}: starts at ${first[o]}, published before ${highest[o]}, file ${fileBefore[o]}`,
        );
      }
    }
    if (i === iterations) {
      agent.kill("SIGTERM");
      t.is(await exited(agent), 0);
      break;
    }
    await sleep(200 + Math.floor(random() * 1800));
    agent.kill("SIGKILL");
    await exited(agent);
    const series = numericSeries(obs.seen, "energy", from, 3);
    series.forEach((values, o) => {
      let previous = highest[o] ?? 0;
      for (const v of values) {
        if (v < previous - 1e-9) regressions++;
        previous = Math.max(previous, v);
      }
      highest[o] = previous;
    });
    const saved = await savedEnergy(stateDir);
    if ((saved[0] ?? 0) > (fileBefore[0] ?? 0)) killsAfterSave++;
  }

  // A fresh subscriber sees retained counters no lower than anything published before.
  const late = await observe(t, broker.url, `${T}/outlet/+/energy`);
  const retained = await eventually("retained energy", () => {
    const s = numericSeries(late.seen, "energy", 0, 3);
    return s.every((x) => x.length > 0) ? s.map((x) => x.at(-1) ?? 0) : undefined;
  });
  retained.forEach((v, o) => t.true(v >= (highest[o] ?? 0) - 1e-9, `outlet ${o + 1}: ${v} < ${highest[o]}`));
  t.is(regressions, 0, "no energy counter went backwards");
  t.true(killsAfterSave > 0, "some kills happened after the agent had saved");
  t.deepEqual(relayTruth(stateDir), 0b111, "no relay changed across 20 kills");
  t.log(
    `${kind}: ${iterations} SIGKILLs; highest kWh ${highest
      .slice(0, 3)
      .map((h) => h.toFixed(4))
      .join(
        " / ",
      )}; kills after a save: ${killsAfterSave}; counters lower than before: ${regressions}; relays switched: 0`,
  );
});

test("energy files survive SIGKILL in the middle of a save: the loaded counter is never below the last completed save", async (t) => {
  const dir = tempDir(t);
  const script = path.join(dir, "saver.mjs");
  const store = pathToFileURL(path.join(ROOT, "pdu-agent/energy-store.ts")).href;
  fs.writeFileSync(
    script,
    `import { EnergyStore } from ${JSON.stringify(store)};
const s = new EnergyStore(process.argv[2], "pdu1");
let v = (await s.load(16)).kwh[0];
for (;;) { v += 0.001; await s.save(new Array(16).fill(v)); process.stdout.write(v.toFixed(6) + "\\n"); }
`,
  );
  const random = seededRandom(seedFromEnv(t));
  let saves = 0;
  let below = 0;
  const iterations = 20;
  for (let i = 0; i < iterations; i++) {
    const before = (await savedEnergy(dir))[0] ?? 0;
    const child = spawn(process.execPath, ["--import", "tsx", script, dir], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await eventually("first saves", () => (out.split("\n").length > 3 ? true : undefined));
    await sleep(Math.floor(random() * 150));
    child.kill("SIGKILL");
    await exited(child);
    const lines = out.split("\n").slice(0, -1); // the last line may be torn
    saves += lines.length;
    const lastCompleted = Number(lines.at(-1));
    const loaded = (await savedEnergy(dir))[0] ?? 0;
    if (loaded < lastCompleted - 1e-9 || loaded < before) below++;
  }
  t.is(below, 0);
  t.log(
    `${iterations} SIGKILLs during ${saves} back-to-back saves; loads below the last completed save: ${below}`,
  );
});

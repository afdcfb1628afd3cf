// Broker faults: the broker SIGKILLed and restarted (its retained store lost too), and the broker not there
// yet when the agent starts. The agent must come back by itself and no outlet may change.
import test from "ava";
import {
  T,
  allStates,
  command,
  killableBroker,
  maskToStates,
  observe,
  relayTruth,
  results,
  setRelayTruth,
  sleep,
  startAgentProcess,
  waitOnline,
} from "./helpers/faults.ts";
import { BROKERS, eventually, tempDir } from "./helpers/system.ts";

const INITIAL = (1 << 1) | (1 << 4) | (1 << 8) | (1 << 15); // outlets 2, 5, 9, 16 on

for (const kind of BROKERS) {
  test(`[${kind}] a broker killed with SIGKILL and restarted empty: the agent reconnects, republishes every state, takes commands, nothing switched`, async (t) => {
    const broker = await killableBroker(t, kind);
    await broker.start();
    const stateDir = tempDir(t);
    setRelayTruth(stateDir, INITIAL);
    const agent = startAgentProcess(t, broker.url, stateDir);
    const before = await observe(t, broker.url);
    await waitOnline(before.seen);
    t.deepEqual(await allStates(before.seen), maskToStates(INITIAL));
    t.like(await command(before, 3, { state: "ON" }), { status: "ok", state: "ON" });
    const truthBefore = relayTruth(stateDir);
    t.is(truthBefore, INITIAL | (1 << 2));

    await broker.kill();
    await eventually("the agent noticing the lost broker", () =>
      /connection lost/.test(agent.output()) ? true : undefined,
    );
    // A crash that also lost the broker's store: whatever retained value exists afterwards was republished.
    broker.wipeStore();
    await broker.start();

    const after = await observe(t, broker.url);
    await waitOnline(after.seen, 0, 30_000);
    const states = await allStates(after.seen);
    t.deepEqual(states, maskToStates(truthBefore), "republished states are the relays as they were");
    t.is(relayTruth(stateDir), truthBefore, "no relay changed across the broker crash");
    t.deepEqual(results(after.seen), [], "the reconnect ran no command");
    t.like(await command(after, 4, { action: "toggle" }), { status: "ok", state: "ON" });
    t.is(relayTruth(stateDir), truthBefore | (1 << 3));
    t.true(agent.exitCode === null && agent.signalCode === null, "the agent kept running");
    t.log(`${kind}: relays before ${bits(truthBefore)}, after ${bits(relayTruth(stateDir) & ~(1 << 3))}`);
  });

  test(`[${kind}] the broker unreachable when the agent starts: it comes online by itself once the broker is up, nothing switched`, async (t) => {
    const broker = await killableBroker(t, kind);
    const stateDir = tempDir(t);
    setRelayTruth(stateDir, INITIAL);
    const agent = startAgentProcess(t, broker.url, stateDir);
    await eventually(
      "the agent reporting the broker unreachable",
      () => (/not reachable/.test(agent.output()) ? true : undefined),
      30_000,
    );
    await sleep(1500); // a few more connection attempts against nothing
    t.is(relayTruth(stateDir), INITIAL);
    await broker.start();

    const obs = await observe(t, broker.url);
    await waitOnline(obs.seen, 0, 30_000);
    t.deepEqual(await allStates(obs.seen), maskToStates(INITIAL));
    t.is(relayTruth(stateDir), INITIAL, "no relay changed while waiting for the broker");
    t.deepEqual(results(obs.seen), []);
    t.like(await command(obs, 1, { state: "ON" }), { status: "ok", state: "ON" });
    t.is(relayTruth(stateDir), INITIAL | 1);
    t.true(obs.seen.some((m) => m.topic === `${T}/info`));
  });
}

function bits(mask: number): string {
  return (
    maskToStates(mask)
      .flatMap((s, i) => (s === "ON" ? [String(i + 1)] : []))
      .join(",") || "none"
  );
}

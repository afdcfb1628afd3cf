// I2C link faults (corrupt, NACK, all-zero and short frames) in 5 % of transactions for a minute while
// commands run on every outlet: no wrong state is ever published and every command is answered.
import test from "ava";
import {
  T,
  ResultWaiter,
  allStates,
  maskToStates,
  observe,
  relayTruth,
  seedFromEnv,
  seededRandom,
  startAgentProcess,
  waitOnline,
  type Result,
} from "./helpers/faults.ts";
import { BROKERS, eventually, exited, startBroker, tempDir } from "./helpers/system.ts";

const SECONDS = Number(process.env["PIPDU_FAULT_SECONDS"] ?? 60);

interface Sent {
  outlet: number;
  action: string;
  published: number; // index in seen when it was sent
  answered: number; // index in seen of its result
  before: string | null;
  result: Result;
}

test(`5 % of I2C transactions failing for ${SECONDS} s: every published state is the outlet's last commanded state, every command answered`, async (t) => {
  t.timeout((SECONDS + 60) * 1000);
  const kind = BROKERS.at(-1) ?? "embedded";
  const broker = await startBroker(t, kind);
  const stateDir = tempDir(t);
  const random = seededRandom(seedFromEnv(t));
  const obs = await observe(t, broker.url);
  const waiter = new ResultWaiter(obs.client, obs.seen);
  const agent = startAgentProcess(t, broker.url, stateDir, {
    PIPDU_SIM_FAULT_RATE: "0.05",
    PIPDU_COMMANDS_DEFAULT_CYCLE_DELAY: "0",
    PIPDU_HA_DISCOVERY: "true", // for the diagnostics topic (link error counters)
  });
  await waitOnline(obs.seen);
  t.deepEqual(await allStates(obs.seen), maskToStates(0));

  const sent: Sent[][] = Array.from({ length: 16 }, () => []);
  const model: (string | null)[] = new Array<string | null>(16).fill("OFF");
  const end = Date.now() + SECONDS * 1000;
  let tx = 0;
  const lane = async (outlet: number): Promise<void> => {
    while (Date.now() < end) {
      const r = random();
      const [action, body]: [string, Record<string, unknown>] =
        r < 0.3
          ? ["on", { state: "ON" }]
          : r < 0.6
            ? ["off", { state: "OFF" }]
            : r < 0.8
              ? ["toggle", { action: "toggle" }]
              : r < 0.95
                ? ["cycle", { action: "cycle", delay: 0 }]
                : ["invalid", { state: "MAYBE" }];
      const transaction = `i2c-${outlet}-${++tx}`;
      const answer = waiter.wait(transaction);
      const published = obs.seen.length;
      await obs.client.publishAsync(`${T}/outlet/${outlet}/set`, JSON.stringify({ ...body, transaction }), {
        qos: 1,
      });
      const { result, index } = await answer;
      const before = model[outlet - 1] ?? null;
      sent[outlet - 1]?.push({ outlet, action, published, answered: index, before, result });
      if (typeof result.state === "string") model[outlet - 1] = result.state;
      else if ((result["error"] as { code?: string } | undefined)?.code === "hardware_error")
        model[outlet - 1] = null; // unknown until the next command re-reads it
    }
  };
  await Promise.all(Array.from({ length: 16 }, (_, i) => lane(i + 1)));

  // Replay what the observer saw, outlet by outlet.
  let statesChecked = 0;
  const wrong: string[] = [];
  let okResults = 0;
  let hardwareErrors = 0;
  let refused = 0;
  for (let o = 0; o < 16; o++) {
    const commands = sent[o] ?? [];
    let k = 0; // commands[k] is the next command not yet answered at the message being checked
    let state: string | null = "OFF";
    const topic = `${T}/outlet/${o + 1}/state`;
    for (let i = 0; i < obs.seen.length; i++) {
      for (let c = commands[k]; c !== undefined && c.answered < i; c = commands[k]) {
        state = nextState(c, state);
        k++;
      }
      const m = obs.seen[i];
      if (m?.topic !== topic) continue;
      statesChecked++;
      const c = commands[k];
      const inFlight = c !== undefined && c.published <= i;
      const allowed = inFlight ? allowedWhile(c, state) : state === null ? ["ON", "OFF"] : [state];
      if (!allowed.includes(m.payload))
        wrong.push(`outlet ${o + 1}: ${m.payload} published at ${i}, expected ${allowed.join("/")}`);
    }
    for (const c of commands) {
      if (c.result.status === "ok") {
        okResults++;
        const expected = expectedAfter(c.action, c.before);
        if (expected !== null && c.result.state !== expected)
          wrong.push(`outlet ${o + 1}: ${c.action} from ${c.before} answered ${c.result.state}`);
      } else if ((c.result["error"] as { code?: string }).code === "hardware_error") hardwareErrors++;
      else refused++;
    }
  }
  const total = sent.reduce((n, s) => n + s.length, 0);
  const duplicates = [...waiter.answered.values()].filter((n) => n !== 1).length;

  const diagnostics = await eventually("diagnostics", () => {
    const m = obs.seen.findLast((x) => x.topic === `${T}/diagnostics`);
    return m ? (JSON.parse(m.payload) as { linkErrors: number; linkFailures: number }) : undefined;
  });
  agent.kill("SIGTERM");
  t.is(await exited(agent), 0, "the agent stops cleanly after the run");
  const finalModel = model.map((s) => s ?? "?");
  const truth = maskToStates(relayTruth(stateDir));

  t.deepEqual(wrong, [], "no wrong state was published");
  t.is(duplicates, 0, "no command was answered twice");
  t.is(waiter.answered.size, total, "every command was answered");
  t.true(diagnostics.linkErrors > 0, "faults were injected");
  finalModel.forEach((s, i) => {
    if (s !== "?") t.is(truth[i], s, `outlet ${i + 1} ends as its last result says`);
  });
  t.log(
    `${kind}, ${SECONDS} s at 5 % faults: ${total} commands, ${total} answered (${okResults} ok, ${hardwareErrors} hardware_error with the state re-read, ${refused} refused), ` +
      `${statesChecked} state messages checked, ${wrong.length} wrong; link errors ${diagnostics.linkErrors} (retried), operations failed after retries ${diagnostics.linkFailures}`,
  );
});

function expectedAfter(action: string, before: string | null): string | null {
  if (action === "on" || action === "cycle") return "ON";
  if (action === "off") return "OFF";
  if (action === "toggle") return before === null ? null : before === "ON" ? "OFF" : "ON";
  return before;
}

/** The outlet's state once a command's result is in: the state it carries, else unchanged or unknown. */
function nextState(c: Sent, state: string | null): string | null {
  if (typeof c.result.state === "string") return c.result.state;
  return (c.result["error"] as { code?: string } | undefined)?.code === "hardware_error" ? null : state;
}

/** States that may be published while a command runs: where it starts, where it ends, and a cycle's off. */
function allowedWhile(c: Sent, state: string | null): string[] {
  if (state === null || c.action === "cycle") return ["ON", "OFF"];
  if (c.action === "invalid") return [state];
  const target = expectedAfter(c.action, state);
  return target === null ? ["ON", "OFF"] : [state, target];
}

// Stress: 10,000 mixed commands (on/off/toggle/cycle with delay 0, valid and invalid) from 10 MQTT clients at
// once. Every command is answered exactly once and each outlet ends in the state of its last successful command.
// Sound by construction: client c alone sends valid commands to outlet c (MQTT keeps one client's messages on
// one topic in order), so each outlet's commands arrive in the order the client sent them. Invalid commands go
// anywhere, including other clients' outlets and outlets nobody owns, which must never change.
import test from "ava";
import type { MqttClient } from "mqtt";
import { connectClient } from "./helpers/mqtt-clients.ts";
import {
  T,
  ResultWaiter,
  allStates,
  maskToStates,
  observe,
  relayTruth,
  seedFromEnv,
  seededRandom,
  setRelayTruth,
  startAgentProcess,
  waitOnline,
  type Result,
} from "./helpers/faults.ts";
import { BROKERS, exited, startBroker, tempDir } from "./helpers/system.ts";

const TOTAL = Number(process.env["PIPDU_STRESS_COMMANDS"] ?? 10_000);
const CLIENTS = 10;
/** Commands a client keeps outstanding: well under Mosquitto's 1000 queued messages per subscriber. */
const WINDOW = 20;
const UNOWNED_ON = (1 << 11) | (1 << 13) | (1 << 15); // outlets 12, 14, 16: on, and nobody may switch them

const VALID: [action: string, body: Record<string, unknown>][] = [
  ["on", { state: "ON" }],
  ["off", { state: "OFF" }],
  ["on", { action: "on", delay: 0 }],
  ["off", { action: "off", delay: 0 }],
  ["toggle", { state: "TOGGLE" }],
  ["toggle", { action: "toggle" }],
  ["cycle", { action: "cycle", delay: 0 }],
];
const INVALID: Record<string, unknown>[] = [
  { state: "MAYBE" },
  { action: "cycle", delay: -1 },
  { state: "ON", delay: "soon" },
  { state: "ON", colour: "red" },
  { state: "ON", action: "off" },
  { state: "OFF", force: "yes" },
  {},
];

interface Sent {
  action: string;
  tx: string;
}

for (const kind of BROKERS) {
  test(`[${kind}] ${TOTAL} mixed commands from ${CLIENTS} clients at once: each answered exactly once, each outlet ends as its last successful command left it`, async (t) => {
    t.timeout(180_000);
    const broker = await startBroker(t, kind);
    const stateDir = tempDir(t);
    setRelayTruth(stateDir, UNOWNED_ON);
    const random = seededRandom(seedFromEnv(t));
    const obs = await observe(t, broker.url, `${T}/result`);
    const waiter = new ResultWaiter(obs.client);
    const agent = startAgentProcess(t, broker.url, stateDir, { PIPDU_TELEMETRY_INTERVAL: "1" });
    const watch = await observe(t, broker.url);
    await waitOnline(watch.seen);
    t.deepEqual(await allStates(watch.seen), maskToStates(UNOWNED_ON));
    await watch.client.endAsync();

    const clients: MqttClient[] = [];
    for (let c = 0; c < CLIENTS; c++)
      clients.push(await connectClient(t, broker.url, { protocolVersion: 4 }));

    const owned: Sent[][] = Array.from({ length: CLIENTS }, () => []);
    const answers = new Map<string, Promise<{ result: Result }>>();
    let invalidSent = 0;
    const perClient = Math.ceil(TOTAL / CLIENTS);
    const started = Date.now();
    await Promise.all(
      clients.map(async (client, c) => {
        const outstanding = new Set<Promise<unknown>>();
        for (let i = 0; i < perClient && c * perClient + i < TOTAL; i++) {
          const tx = `s${c}-${i}`;
          let topicOutlet: string;
          let body: Record<string, unknown>;
          if (random() < 0.75) {
            const [action, b] = VALID[Math.floor(random() * VALID.length)] as [
              string,
              Record<string, unknown>,
            ];
            owned[c]?.push({ action, tx });
            topicOutlet = String(c + 1);
            body = b;
          } else {
            invalidSent++;
            // An invalid command to any outlet, or a valid one to an outlet that does not exist.
            if (random() < 0.2) {
              topicOutlet = ["0", "17", "99", "abc", "-1"][Math.floor(random() * 5)] ?? "0";
              body = { state: "ON" };
            } else {
              topicOutlet = String(1 + Math.floor(random() * 16));
              body = INVALID[Math.floor(random() * INVALID.length)] ?? {};
            }
          }
          const answer = waiter.wait(tx, 60_000);
          answers.set(tx, answer);
          const done = answer.finally(() => outstanding.delete(done));
          outstanding.add(done);
          await client.publishAsync(
            `${T}/outlet/${topicOutlet}/set`,
            JSON.stringify({ ...body, transaction: tx }),
            { qos: 1 },
          );
          if (outstanding.size >= WINDOW) await Promise.race(outstanding);
        }
        await Promise.all(outstanding);
      }),
    );
    const seconds = (Date.now() - started) / 1000;

    const resolved = new Map<string, Result>();
    for (const [tx, p] of answers) resolved.set(tx, (await p).result);
    // Anything answered twice would show up as a second result for the same transaction.
    const sync = waiter.wait("sync");
    await obs.client.publishAsync(
      `${T}/outlet/1/set`,
      JSON.stringify({ state: "MAYBE", transaction: "sync" }),
    );
    await sync;
    const duplicates = [...waiter.answered.entries()].filter(([, n]) => n !== 1);

    const mismatches: string[] = [];
    const expectedFinal = maskToStates(UNOWNED_ON);
    let ok = 0;
    let refused = 0;
    for (let c = 0; c < CLIENTS; c++) {
      let state = "OFF";
      for (const s of owned[c] ?? []) {
        const r = resolved.get(s.tx) ?? {};
        if (r.status === "ok") {
          ok++;
          const expected =
            s.action === "toggle" ? (state === "ON" ? "OFF" : "ON") : s.action === "off" ? "OFF" : "ON";
          if (r.state !== expected)
            mismatches.push(`outlet ${c + 1} ${s.tx} ${s.action}: ${r.state} ≠ ${expected}`);
          state = r.state ?? state;
        } else {
          refused++;
          if (typeof r.state === "string") state = r.state;
        }
      }
      expectedFinal[c] = state;
    }
    const validSent = owned.reduce((n, o) => n + o.length, 0);
    const invalidAnswered = [...resolved.values()].filter(
      (r) => r.status === "error" && (r["error"] as { code: string }).code !== "hardware_error",
    ).length;
    const truth = maskToStates(relayTruth(stateDir));

    t.is(resolved.size, TOTAL, "every command answered");
    t.deepEqual(duplicates, [], "no command answered twice");
    t.is(waiter.results, TOTAL + 1, "no result without a command");
    t.deepEqual(mismatches, [], "each result follows from the outlet's previous state in send order");
    t.deepEqual(truth, expectedFinal, "each outlet ends in the state of its last successful command");
    t.true(agent.exitCode === null && agent.signalCode === null, "the agent survived");
    agent.kill("SIGTERM");
    t.is(await exited(agent), 0);
    t.log(
      `${kind}: ${TOTAL} commands (${validSent} valid to owned outlets, ${invalidSent} invalid) from ${CLIENTS} clients in ${seconds.toFixed(1)} s ` +
        `(${Math.round(TOTAL / seconds)}/s): ${resolved.size} answered once, ${duplicates.length} twice; ${ok} ok, ${refused} valid refused, ` +
        `${invalidAnswered - refused} invalid refused; final relays match the last results on 16/16 outlets`,
    );
  });
}

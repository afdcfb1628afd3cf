// Fault injection for reliability tests: brokers that can be SIGKILLed and started again on the same port,
// the pdu-agent as its own process, an observer of everything it publishes, the simulated relays' truth.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { ExecutionContext } from "ava";
import type { MqttClient } from "mqtt";
import { collectMessages, connectClient, type Received } from "./mqtt-clients.ts";
import {
  eventually,
  exited,
  freePort,
  spawnPipdu,
  tempDir,
  waitForPort,
  writeMosquittoConf,
  type BrokerKind,
} from "./system.ts";

export const PDU = "pdu1";
export const T = `pipdu/${PDU}`;

export interface KillableBroker {
  kind: BrokerKind;
  url: string;
  port: number;
  /** Start (again) on the same port; resolves when it accepts connections. */
  start(): Promise<void>;
  /** SIGKILL: no clean shutdown, no last save. */
  kill(): Promise<void>;
  /** Delete the broker's persisted retained messages and sessions (while it is down). */
  wipeStore(): void;
}

/**
 * A broker in its own process: `pipdu broker` (the embedded Aedes broker) or Mosquitto. Not started yet,
 * so a test can also start the agent first. Killed after the test.
 */
export async function killableBroker(t: ExecutionContext, kind: BrokerKind): Promise<KillableBroker> {
  const port = await freePort();
  const dir = tempDir(t, "pipdu-broker-");
  let proc: ChildProcess | null = null;
  const spawnOne = (): ChildProcess => {
    if (kind === "embedded") {
      return spawnPipdu(t, ["broker"], {
        PIPDU_STATE_DIR: dir,
        PIPDU_BROKER_PORT: String(port),
        PIPDU_BROKER_WS_PORT: "0",
        PIPDU_BROKER_TLS_PORT: "0",
      });
    }
    const conf = writeMosquittoConf(dir, port);
    const child = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    return child;
  };
  return {
    kind,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async start() {
      proc = spawnOne();
      await waitForPort(port, 20_000);
    },
    async kill() {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      p.kill("SIGKILL");
      await exited(p);
    },
    wipeStore() {
      fs.rmSync(path.join(dir, "mosquitto.db"), { force: true });
      fs.rmSync(path.join(dir, "broker"), { recursive: true, force: true });
    },
  };
}

/** `pipdu pdu` on the simulated PDU, its relays' truth in stateDir/sim-relays.json. */
export function startAgentProcess(
  t: ExecutionContext,
  url: string,
  stateDir: string,
  env: Record<string, string> = {},
): ChildProcess & { output: () => string } {
  return spawnPipdu(t, ["pdu"], {
    PIPDU_MQTT_URL: url,
    PIPDU_STATE_DIR: stateDir,
    PIPDU_HARDWARE: "sim",
    PIPDU_TELEMETRY_INTERVAL: "0.2",
    PIPDU_HA_DISCOVERY: "false",
    ...env,
  });
}

/** The simulated firmware's relay mask as the relays are, whatever anyone published. */
export function relayTruth(stateDir: string): number {
  try {
    const data = JSON.parse(fs.readFileSync(path.join(stateDir, "sim-relays.json"), "utf8")) as {
      relays?: number;
    };
    return data.relays ?? 0;
  } catch {
    return 0; // no file yet: the simulator starts with every relay off
  }
}

/** Write the truth before the agent starts, as relays the firmware kept from before. */
export function setRelayTruth(stateDir: string, mask: number): void {
  fs.writeFileSync(path.join(stateDir, "sim-relays.json"), JSON.stringify({ relays: mask }));
}

export function maskToStates(mask: number, count = 16): string[] {
  return Array.from({ length: count }, (_, i) => ((mask >> i) & 1 ? "ON" : "OFF"));
}

export interface Observer {
  client: MqttClient;
  seen: Received[];
}

/** An MQTT 3.1.1 client subscribed to everything of the PDU. */
export async function observe(t: ExecutionContext, url: string, filter = `${T}/#`): Promise<Observer> {
  const client = await connectClient(t, url, { protocolVersion: 4 });
  const seen = collectMessages(client);
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, seen };
}

export function latest(seen: Received[], topic: string, from = 0): string | undefined {
  for (let i = seen.length - 1; i >= from; i--) if (seen[i]?.topic === topic) return seen[i]?.payload;
  return undefined;
}

/** Every outlet's latest published state after index `from` ("?" where none was seen). */
export function publishedStates(seen: Received[], from = 0, count = 16): string[] {
  return Array.from({ length: count }, (_, i) => latest(seen, `${T}/outlet/${i + 1}/state`, from) ?? "?");
}

export async function waitOnline(seen: Received[], from = 0, timeoutMs = 20_000): Promise<void> {
  await eventually(
    "availability online",
    () => (latest(seen, `${T}/availability`, from) === "online" ? true : undefined),
    timeoutMs,
  );
}

/** Wait until all 16 states were published after `from`, and return them. */
export function allStates(seen: Received[], from = 0): Promise<string[]> {
  return eventually("all 16 outlet states published", () => {
    const s = publishedStates(seen, from);
    return s.includes("?") ? undefined : s;
  });
}

export type Result = Record<string, unknown> & {
  status?: string;
  state?: string;
  transaction?: unknown;
  outlets?: Record<string, string>;
};

let txCounter = 0;

/** Publish a JSON command with a fresh transaction and wait for its one result. */
export async function command(
  obs: Observer,
  outlet: number,
  body: Record<string, unknown>,
  timeoutMs = 15_000,
): Promise<Result> {
  const transaction = `f-${process.pid}-${++txCounter}`;
  const from = obs.seen.length;
  await obs.client.publishAsync(`${T}/outlet/${outlet}/set`, JSON.stringify({ ...body, transaction }), {
    qos: 1,
  });
  return eventually(
    `result of ${JSON.stringify(body)} on outlet ${outlet}`,
    () => {
      for (let i = from; i < obs.seen.length; i++) {
        const m = obs.seen[i];
        if (m?.topic !== `${T}/result`) continue;
        const r = JSON.parse(m.payload) as Result;
        if (r.transaction === transaction) return r;
      }
      return undefined;
    },
    timeoutMs,
  );
}

export function results(seen: Received[], from = 0): Result[] {
  return seen
    .slice(from)
    .filter((m) => m.topic === `${T}/result`)
    .map((m) => JSON.parse(m.payload) as Result);
}

/** Per outlet, the values published on `outlet/<n>/<metric>` after `from`, as numbers. */
export function numericSeries(seen: Received[], metric: string, from = 0, count = 16): number[][] {
  const series: number[][] = Array.from({ length: count }, () => []);
  for (let i = from; i < seen.length; i++) {
    const m = seen[i];
    const match = m && new RegExp(`^${T}/outlet/(\\d+)/${metric}$`).exec(m.topic);
    if (match && m.payload !== "") series[Number(match[1]) - 1]?.push(Number(m.payload));
  }
  return series;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A deterministic generator, so a failing run can be repeated with the seed it prints. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFromEnv(t: ExecutionContext): number {
  const seed = Number(process.env["PIPDU_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  t.log(`seed ${seed} (repeat with PIPDU_TEST_SEED=${seed})`);
  return seed;
}

/** Resolves results by transaction as they arrive on a client subscribed to the result topic; counts duplicates. */
export class ResultWaiter {
  private readonly waiting = new Map<string, (r: { result: Result; index: number }) => void>();
  /** Every transaction seen, with how many results carried it. */
  readonly answered = new Map<string, number>();
  results = 0;

  constructor(
    client: MqttClient,
    private readonly seen?: Received[],
  ) {
    client.on("message", (topic, payload) => {
      if (topic !== `${T}/result`) return;
      this.results++;
      const result = JSON.parse(payload.toString()) as Result;
      const tx = typeof result.transaction === "string" ? result.transaction : undefined;
      if (tx === undefined) return;
      this.answered.set(tx, (this.answered.get(tx) ?? 0) + 1);
      const index = this.seen ? this.seen.length - 1 : -1;
      this.waiting.get(tx)?.({ result, index });
      this.waiting.delete(tx);
    });
  }

  /** Register before publishing; rejects after the deadline. */
  wait(tx: string, timeoutMs = 20_000): Promise<{ result: Result; index: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(tx);
        reject(new Error(`no result for transaction ${tx} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(tx, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }
}

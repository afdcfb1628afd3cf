// Real parts for integration tests: the embedded broker or a real Mosquitto on a free port, a pdu-agent
// in-process or as its own process, and the mosquitto_pub/mosquitto_sub command-line clients.
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { ExecutionContext } from "ava";
import { EmbeddedBroker } from "../../broker/embedded-broker.ts";
import { loadConfig, type Settings } from "../../config/load.ts";
import { createLogger, silentLogger, type Logger } from "../../log/logger.ts";
import type { PduAgent } from "../../pdu-agent/agent.ts";
import { createAgent } from "../../pdu-agent/create-agent.ts";
import { createSimulatedPdu, type SimulatedPdu } from "../../pdu-agent/hardware/sim/simulated-pdu.ts";
import type { AgentPlugin } from "../../pdu-agent/plugin.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export type BrokerKind = "embedded" | "mosquitto";

export const hasMosquitto = spawnSync("mosquitto", ["-h"]).error === undefined;
if (!hasMosquitto && process.env["CI"] === "true") {
  throw new Error(
    "mosquitto is not installed: CI must test against a real Mosquitto (apt-get install mosquitto mosquitto-clients)",
  );
}
/** Both brokers where Mosquitto is installed; outside CI a missing Mosquitto only narrows the matrix. */
export const BROKERS: BrokerKind[] = hasMosquitto ? ["embedded", "mosquitto"] : ["embedded"];

export function tempDir(t: ExecutionContext, prefix = "pipdu-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

/** Defaults as a fresh install has them, with a private state directory and fast telemetry. */
export function testSettings(t: ExecutionContext, overrides: DeepPartial<Settings> = {}): Settings {
  const { settings } = loadConfig({ argv: [], env: {} });
  const base: Settings = { ...settings, stateDir: tempDir(t), hardware: "sim" };
  base.telemetry = { ...base.telemetry, interval: 0.2 };
  return merge(base, overrides);
}

function merge<T>(base: T, patch: DeepPartial<T>): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    const current = out[k];
    out[k] =
      v !== null &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      current !== null &&
      typeof current === "object"
        ? merge(current, v)
        : v;
  }
  return out as T;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningBroker {
  kind: BrokerKind;
  url: string;
  port: number;
  stop(): Promise<void>;
  /**
   * Stop and start again on the same port (retained messages kept where the broker persists them).
   * loseRetained: stop as a crash would (Mosquitto SIGKILLed) and start with an empty retained store.
   */
  restart(options?: { loseRetained?: boolean }): Promise<void>;
}

export async function startBroker(
  t: ExecutionContext,
  kind: BrokerKind,
  stateDir = tempDir(t),
): Promise<RunningBroker> {
  return kind === "embedded" ? startEmbedded(t, stateDir) : startMosquitto(t, stateDir);
}

async function startEmbedded(t: ExecutionContext, stateDir: string): Promise<RunningBroker> {
  const make = (port: number): EmbeddedBroker =>
    new EmbeddedBroker({
      host: "127.0.0.1",
      port,
      wsPort: null,
      stateDir,
      logger: silentLogger(),
      retainedFlushDelayMs: 0,
    });
  let broker = make(0);
  const { port } = await broker.start();
  let running = true;
  const running_ = {
    kind: "embedded" as const,
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      if (running) await broker.stop();
      running = false;
    },
    async restart(options: { loseRetained?: boolean } = {}) {
      await running_.stop();
      if (options.loseRetained === true) {
        for (const entry of fs.readdirSync(stateDir))
          fs.rmSync(path.join(stateDir, entry), { recursive: true });
      }
      broker = make(port);
      await broker.start();
      running = true;
    },
  };
  t.teardown(() => running_.stop());
  return running_;
}

/**
 * A Mosquitto configuration for tests and benchmarks: one loopback listener, anonymous clients, TCP_NODELAY,
 * persistence in `dir` (Mosquitto run as root would switch to its own user and lose access to it).
 */
export function writeMosquittoConf(dir: string, port: number, extra: string[] = []): string {
  const conf = path.join(dir, "mosquitto.conf");
  const lines = [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "set_tcp_nodelay true",
    "persistence true",
    `persistence_location ${dir}/`,
    "autosave_interval 1",
    ...(process.getuid?.() === 0 ? ["user root"] : []),
    ...(process.env["PIPDU_TEST_MOSQUITTO_LOG"]
      ? ["log_type all", `log_dest file ${dir}/mosquitto.log`]
      : []),
    ...extra,
  ];
  fs.writeFileSync(conf, `${lines.join("\n")}\n`);
  return conf;
}

async function startMosquitto(t: ExecutionContext, stateDir: string): Promise<RunningBroker> {
  const port = await freePort();
  const conf = writeMosquittoConf(stateDir, port);
  let proc: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    proc = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
    await waitForPort(port);
  };
  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill(signal);
    });
  };
  await start();
  t.teardown(() => stop());
  return {
    kind: "mosquitto",
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: () => stop(),
    restart: async (options: { loseRetained?: boolean } = {}) => {
      if (options.loseRetained === true) {
        await stop("SIGKILL"); // as after a crash or an out-of-memory kill: nothing saved on the way out
        fs.rmSync(path.join(stateDir, "mosquitto.db"), { force: true });
      } else await stop();
      await start();
    },
  };
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface InProcessAgent {
  agent: PduAgent;
  sim: SimulatedPdu;
  settings: Settings;
  stop(): Promise<void>;
}

/** A pdu-agent on a simulated PDU in this process; stopped after the test. */
export async function startAgent(
  t: ExecutionContext,
  settings: Settings,
  plugins: AgentPlugin[] = [],
  options: { logger?: Logger } = {},
): Promise<InProcessAgent> {
  const sim = createSimulatedPdu({
    stateDir: settings.stateDir,
    outletCount: settings.pdu.outletCount,
    outlets: settings.outlets,
    voltage: settings.mains.voltage,
    powerFactor: settings.mains.powerFactor,
  });
  const logger =
    options.logger ?? (process.env["PIPDU_TEST_LOG"] ? createLogger({ level: "debug" }) : silentLogger());
  const agent = await createAgent({ settings, controller: sim.controller, logger, plugins });
  await agent.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await agent.stop();
  };
  t.teardown(stop);
  return { agent, sim, settings, stop };
}

/** `pipdu <command>` as its own process, with settings passed through PIPDU_* variables. Killed after the test. */
export function spawnPipdu(
  t: ExecutionContext,
  args: string[],
  env: Record<string, string>,
): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/pipdu.js"), ...args], {
    env: { ...process.env, PIPDU_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return Object.assign(child, { output: () => output });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** mosquitto_pub, the command-line client users have. */
export function mosquittoPub(
  port: number,
  topic: string,
  message: string,
  extra: string[] = [],
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      "mosquitto_pub",
      ["-h", "127.0.0.1", "-p", String(port), "-q", "1", "-t", topic, "-m", message, ...extra],
      (err) => {
        if (err) reject(new Error(`mosquitto_pub failed: ${err.message}`));
        else resolve();
      },
    );
  });
}

/** mosquitto_sub until `count` messages arrived (or the timeout); returns "topic payload" lines. */
export function mosquittoSub(
  port: number,
  topic: string,
  count: number,
  timeoutSeconds = 10,
  extra: string[] = [],
): { lines: Promise<string[]>; ready: Promise<void> } {
  // Line-buffered, so the SUBACK debug line (our readiness signal) arrives while it runs.
  const child = spawn("stdbuf", [
    "-oL",
    "mosquitto_sub",
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-t",
    topic,
    "-v",
    "-C",
    String(count),
    "-W",
    String(timeoutSeconds),
    ...extra,
    "-d",
  ]);
  let out = "";
  let debug = "";
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    debug += d.toString();
    if (debug.includes("SUBACK")) markReady();
  });
  const lines = new Promise<string[]>((resolve) => {
    // "close", not "exit": stdout may still hold the last lines when the process exits.
    child.once("close", () => {
      markReady();
      resolve(
        out
          .split("\n")
          .filter((l) => l.length > 0 && !l.startsWith("Client ") && !l.startsWith("Subscribed")),
      );
    });
  });
  return { lines, ready };
}

/** Wait until `check` returns a value other than undefined; fail with `what` after the deadline. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export { recordingLogger } from "./recording-logger.ts";

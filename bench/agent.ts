// pdu-agent benchmarks: command round trip beside the bare broker round trip (embedded broker and Mosquitto,
// measured side by side in one run), agent RSS and CPU at 1 s telemetry, and time from start to online.
// Every process is its own: broker, agent and the measuring client do not share an event loop.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import mqtt, { type MqttClient } from "mqtt";
import { freePort, hasMosquitto, ROOT, waitForPort, writeMosquittoConf } from "../test/helpers/system.ts";
import { DEFAULT_HANDLER_US, transactionMs } from "../pdu-agent/hardware/sim/sim-bus.ts";

const COMMANDS = Number(process.env["BENCH_COMMANDS"] ?? 1000);
const cleanups: (() => Promise<void> | void)[] = [];

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-bench-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: "ignore" });
  cleanups.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  return child;
}

const pipdu = (args: string[], env: Record<string, string>): ChildProcess =>
  run(process.execPath, [path.join(ROOT, "bin/pipdu.js"), ...args], env);

/**
 * BENCH_BASELINE=<another checkout, built>: its `pipdu broker` too, as "baseline", and "embedded-3.1.1": this
 * broker with the agent on MQTT 3.1.1, as it speaks to the 3.1.1-only baseline (see bench/fleet.ts).
 * BENCH_ROUNDS: rounds of the round-trip table, the brokers interleaved (default 1).
 */
const BASELINE = process.env["BENCH_BASELINE"];
type Kind = "embedded" | "embedded-3.1.1" | "mosquitto" | "baseline";

async function startBroker(kind: Kind): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const dir = tmp();
  let child: ChildProcess;
  if (kind === "baseline") {
    child = run(process.execPath, [path.join(BASELINE ?? ROOT, "bin/pipdu.js"), "broker"], {
      PIPDU_BROKER_PORT: String(port),
      PIPDU_BROKER_WS_PORT: "0",
      PIPDU_STATE_DIR: dir,
      PIPDU_LOG_LEVEL: "warn",
    });
  } else if (kind === "embedded" || kind === "embedded-3.1.1") {
    child = pipdu(["broker"], {
      PIPDU_BROKER_PORT: String(port),
      PIPDU_BROKER_WS_PORT: "0",
      PIPDU_STATE_DIR: dir,
      PIPDU_LOG_LEVEL: "warn",
    });
  } else {
    const conf = writeMosquittoConf(dir, port);
    child = run("mosquitto", ["-c", conf]);
  }
  await waitForPort(port);
  return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid ?? 0 };
}

async function connect(url: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  (client.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  cleanups.push(() => client.endAsync(true).then(() => undefined));
  return client;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Latency {
  p50: number;
  p99: number;
}

function summarise(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99) };
}

/** QoS 1 publish → delivery back to the same client, n times in a row. */
async function bareRoundTrip(url: string, n: number): Promise<Latency> {
  const client = await connect(url);
  const topic = `bench/${Math.random().toString(36).slice(2)}`;
  await client.subscribeAsync(topic, { qos: 1 });
  const samples: number[] = [];
  for (let i = 0; i < n + 50; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      client.once("message", () => resolve());
      void client.publishAsync(topic, String(i), { qos: 1 });
    });
    if (i >= 50) samples.push(performance.now() - t0);
  }
  await client.endAsync();
  return summarise(samples);
}

/** Publish `set` ON/OFF alternately, stop the clock when the outlet's state changes. */
async function commandRoundTrip(url: string, n: number, env: Record<string, string> = {}): Promise<Latency> {
  const dir = tmp();
  const agent = pipdu(["pdu"], {
    PIPDU_MQTT_URL: url,
    PIPDU_STATE_DIR: dir,
    PIPDU_HARDWARE: "sim",
    PIPDU_LOG_LEVEL: "warn",
    ...env,
  });
  const client = await connect(url);
  const stateTopic = "pipdu/pdu1/outlet/3/state";
  await client.subscribeAsync(["pipdu/pdu1/availability", stateTopic], { qos: 1 });
  await new Promise<void>((resolve) => {
    const on = (topic: string, payload: Buffer): void => {
      if (topic === "pipdu/pdu1/availability" && payload.toString() === "online") {
        client.off("message", on);
        resolve();
      }
    };
    client.on("message", on);
  });
  await new Promise((r) => setTimeout(r, 500));
  const samples: number[] = [];
  let state = "OFF";
  const warmUp = Math.min(50, n);
  for (let i = 0; i < n + warmUp; i++) {
    const want = state === "ON" ? "OFF" : "ON";
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const on = (topic: string, payload: Buffer): void => {
        if (topic === stateTopic && payload.toString() === want) {
          client.off("message", on);
          resolve();
        }
      };
      client.on("message", on);
      void client.publishAsync("pipdu/pdu1/outlet/3/set", want, { qos: 1 });
    });
    state = want;
    if (i >= warmUp) samples.push(performance.now() - t0);
  }
  agent.kill("SIGTERM");
  return summarise(samples);
}

function procStats(pid: number): { cpuTicks: number; rssMb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return { cpuTicks, rssMb: Number(rss?.[1] ?? 0) / 1024 };
}

/** The agent alone, 16 outlets with half of them on, 1 s telemetry: RSS and CPU share of one core. */
async function agentFootprint(url: string, seconds: number): Promise<{ rssMb: number; cpuPercent: number }> {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, "sim-relays.json"), JSON.stringify({ relays: 0x5555 }));
  const agent = pipdu(["pdu"], {
    PIPDU_MQTT_URL: url,
    PIPDU_STATE_DIR: dir,
    PIPDU_HARDWARE: "sim",
    PIPDU_LOG_LEVEL: "warn",
  });
  await new Promise((r) => setTimeout(r, 5000));
  const pid = agent.pid ?? 0;
  const a = procStats(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = procStats(pid);
  const elapsed = (performance.now() - t0) / 1000;
  agent.kill("SIGTERM");
  const hz = 100; // USER_HZ on Linux
  return { rssMb: b.rssMb, cpuPercent: ((b.cpuTicks - a.cpuTicks) / hz / elapsed) * 100 };
}

/** `pipdu start` on a fresh state directory until availability is online, as a user sees it. */
async function startToOnline(): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = pipdu(["start"], {
    PIPDU_BROKER_PORT: String(port),
    PIPDU_BROKER_WS_PORT: "0",
    PIPDU_STATE_DIR: tmp(),
    PIPDU_HARDWARE: "sim",
    PIPDU_LOG_LEVEL: "warn",
    PIPDU_HTTP_PORT: "0",
    PIPDU_PDUDAEMON_PORT: "0",
    PIPDU_PANEL_PORT: "0",
  });
  for (;;) {
    try {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 1000,
      });
      await client.subscribeAsync("pipdu/pdu1/availability");
      const online = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 200);
        client.on("message", (_t, p) => {
          if (p.toString() === "online") {
            clearTimeout(timer);
            resolve(true);
          }
        });
      });
      await client.endAsync(true);
      if (online) break;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const ms = performance.now() - t0;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  return ms;
}

/**
 * The hardware path at the bus limit: the same command round trip with the simulator taking each I2C
 * transaction's bus time, at 100 kHz and at the 10 kHz a Pi Zero runs for the AVR's clock stretching. A switch
 * whose write sequence is known is the frame (5 bytes) and its receipt (12 bytes with the CRC).
 */
async function busLimit(url: string): Promise<string[]> {
  const n = Number(process.env["BENCH_BUS_COMMANDS"] ?? 200);
  const bare = await bareRoundTrip(url, n);
  const rows = [
    `### Hardware path at the bus limit (${n} switches per clock, simulator with bus time, on the last broker above)`,
    "",
    "| I2C clock | bus time of a switch (2 transactions) | set → state p50 / p99 (ms) | p50 minus bare broker round trip | p50 over bus time |",
    "|---|---|---|---|---|",
  ];
  for (const clockHz of [100_000, 10_000]) {
    const timing = { clockHz, handlerUs: DEFAULT_HANDLER_US };
    const busMs = transactionMs(5, timing) + transactionMs(12, timing);
    const cmd = await commandRoundTrip(url, n, { PIPDU_SIM_BUS_CLOCK: String(clockHz) });
    rows.push(
      `| ${clockHz / 1000} kHz | ${f(busMs)} ms | ${f(cmd.p50)} / ${f(cmd.p99)} | ${f(cmd.p50 - bare.p50)} ms | ${(cmd.p50 / busMs).toFixed(2)}× (goal ≤ 1.20× at 10 kHz) |`,
    );
  }
  return rows;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const f = (x: number): string => x.toFixed(2);

export async function runAgentBenchmarks(): Promise<string> {
  const lines: string[] = [];
  try {
    const kinds: Kind[] = [
      "embedded",
      ...(BASELINE === undefined ? [] : (["baseline", "embedded-3.1.1"] as const)),
      ...(hasMosquitto ? (["mosquitto"] as const) : []),
    ];
    const rounds = Number(process.env["BENCH_ROUNDS"] ?? 1);
    lines.push(`### Command round trip (${COMMANDS} commands, QoS 1, each broker in its own process)`, "");
    lines.push(
      "| broker | bare round trip p50 / p99 (ms) | set → state p50 / p99 (ms) | p50 overhead (ms) |",
      "|---|---|---|---|",
    );
    for (let round = 0; round < rounds; round++) {
      for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
        const broker = await startBroker(kind);
        const bare = await bareRoundTrip(broker.url, COMMANDS);
        const env: Record<string, string> = kind === "embedded-3.1.1" ? { PIPDU_MQTT_PROTOCOL: "3.1.1" } : {};
        const cmd = await commandRoundTrip(broker.url, COMMANDS, env);
        lines.push(
          `| ${kind} | ${f(bare.p50)} / ${f(bare.p99)} | ${f(cmd.p50)} / ${f(cmd.p99)} | ${f(cmd.p50 - bare.p50)} |`,
        );
      }
    }
    if (process.env["BENCH_ROUND_TRIP_ONLY"] === "1") return lines.join("\n");
    const broker = await startBroker(kinds.at(-1) ?? "embedded");
    lines.push("", ...(await busLimit(broker.url)));
    const footprint = await agentFootprint(broker.url, Number(process.env["BENCH_FOOTPRINT_SECONDS"] ?? 30));
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) starts.push(await startToOnline());
    lines.push(
      "",
      "### pdu-agent footprint and start-up",
      "",
      "| measure | value | target |",
      "|---|---|---|",
    );
    lines.push(`| agent RSS, 16 outlets, 1 s telemetry | ${footprint.rssMb.toFixed(1)} MB | < 80 MB |`);
    lines.push(`| agent CPU, same | ${footprint.cpuPercent.toFixed(2)} % of one core | < 1 % |`);
    lines.push(
      `| \`pipdu start\` → availability online (median of 5) | ${median(starts).toFixed(0)} ms | < 2000 ms |`,
    );
  } finally {
    for (const c of cleanups.splice(0).reverse()) await c();
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  console.log(await runAgentBenchmarks());
}

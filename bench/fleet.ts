// Fleet benchmark: N simulated PDUs (default 64, 1,024 outlets) on one broker, the embedded broker and
// Mosquitto side by side, each broker in its own process so its CPU and memory are read the same way
// (/proc/<pid>/stat and /proc/<pid>/status).
//   node --import tsx bench/fleet.ts [--pdus 64] [--runs 3] [--brokers embedded,mosquitto,baseline]
// BENCH_BASELINE=<another checkout, built> adds its `pipdu broker` as "baseline": one embedded broker against
// another (e.g. before and after an Aedes upgrade) in the same run, and "embedded-3.1.1": this checkout's
// broker with the fleet and the benchmark's client on MQTT 3.1.1, as they speak to a 3.1.1-only baseline,
// so the two brokers are compared on the same protocol.
// Measures: time until every PDU is online (and discovered, when the fleet publishes Home Assistant
// discovery); a burst of one command per outlet, every one answered (p50/p99, nothing lost); broker CPU
// and memory. Figures are medians over the runs (docs/performance.md, "Fleet").
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { MqttClient } from "mqtt";
import { simFleetPlugins } from "../cli/sim-fleet.ts";
import { loadConfig, type Settings } from "../config/load.ts";
import { connectMqtt } from "../lib/mqtt-connect.ts";
import { silentLogger } from "../log/logger.ts";
import { fleetIds } from "../pdu-agent/fleet.ts";
import { Topics, haDeviceDiscoveryTopic } from "../protocol/topics.ts";
import { freePort, waitForPort, writeMosquittoConf } from "../test/helpers/system.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"]).stdout.toString().trim()) || 100;

export type BrokerKind = "embedded" | "embedded-3.1.1" | "mosquitto" | "baseline";

const BASELINE = process.env["BENCH_BASELINE"];

export interface FleetBenchOptions {
  pdus?: number;
  runs?: number;
  brokers?: BrokerKind[];
  /** Seconds of steady state (telemetry only) over which idle broker CPU is measured. */
  steadySeconds?: number;
  log?: (line: string) => void;
}

export interface FleetRun {
  broker: BrokerKind;
  pdus: number;
  outlets: number;
  /** ms from launching `pipdu sim` until every PDU's availability is "online". */
  onlineMs: number;
  /** ms from the first PDU online to the last: the connect storm itself, without process start-up. */
  spreadMs: number;
  /** ms until every PDU's discovery config arrived; null when the fleet publishes no discovery. */
  discoveredMs: number | null;
  burst: {
    sent: number;
    answered: number;
    ok: number;
    lost: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    totalMs: number;
  };
  /** One command at a time across the fleet, each awaited: the round trip without queueing. */
  single: { count: number; p50Ms: number; p99Ms: number };
  /** Broker CPU seconds while the fleet connected and announced itself, and during the burst. */
  cpuStartupS: number;
  cpuBurstS: number;
  /** CPU seconds of the `pipdu sim` process (the whole simulated fleet) during the burst. */
  fleetCpuBurstS: number;
  /** Broker CPU in % of one core with the fleet publishing telemetry (1 s interval), no commands. */
  cpuSteadyPct: number;
  rssOnlineMB: number;
  rssPeakMB: number;
}

export interface FleetBenchResult {
  runs: FleetRun[];
  medians: Record<BrokerKind, FleetRun | undefined>;
}

export async function runFleetBench(options: FleetBenchOptions = {}): Promise<FleetBenchResult> {
  const pdus = options.pdus ?? 64;
  const runs = options.runs ?? 3;
  const brokers =
    options.brokers ??
    ([
      "embedded",
      ...(BASELINE === undefined ? [] : ["baseline", "embedded-3.1.1"]),
      ...(hasMosquitto() ? ["mosquitto"] : []),
    ] as BrokerKind[]);
  const log = options.log ?? ((line: string) => console.error(line));
  const results: FleetRun[] = [];
  for (let run = 1; run <= runs; run++) {
    for (const kind of brokers) {
      const result = await fleetRun(kind, pdus, options.steadySeconds ?? 5);
      log(`run ${run} ${kind}: ${JSON.stringify(result)}`);
      results.push(result);
    }
  }
  const medians = Object.fromEntries(
    brokers.map((kind) => [kind, medianRun(results.filter((r) => r.broker === kind))]),
  ) as FleetBenchResult["medians"];
  return { runs: results, medians };
}

async function fleetRun(kind: BrokerKind, size: number, steadySeconds: number): Promise<FleetRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-fleet-bench-"));
  const broker = await startBroker(kind, dir);
  const protocol = kind === "embedded-3.1.1" ? "3.1.1" : "auto";
  const logger = silentLogger();
  let observer: MqttClient | null = null;
  let fleet: FleetProcess | null = null;
  try {
    const settings = benchSettings(dir, broker.url);
    const topics = new Topics(settings.mqtt.baseTopic);
    const discovery =
      settings.ha.discovery &&
      simFleetPlugins()(settings).some((p) => /discovery|home ?assistant/i.test(p.name));
    const ids = fleetIds(size);

    observer = await connectMqtt({
      url: broker.url,
      clientId: `pipdu-bench-${process.pid}`,
      protocol,
      logger,
    });
    const online = new Set<string>();
    let firstOnline = NaN;
    const discovered = new Set<string>();
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let ok = 0;
    let everyOnline: () => void = () => undefined;
    let everyDiscovered: () => void = () => undefined;
    let everyAnswered: () => void = () => undefined;
    const allOnline = new Promise<void>((resolve) => (everyOnline = resolve));
    const allDiscovered = new Promise<void>((resolve) => (everyDiscovered = resolve));
    const allAnswered = new Promise<void>((resolve) => (everyAnswered = resolve));
    observer.on("message", (topic, payload) => {
      const now = performance.now();
      const parsed = topics.parse(topic);
      if (parsed?.kind === "availability" && payload.toString() === "online") {
        if (online.size === 0) firstOnline = now;
        online.add(parsed.pdu);
        if (online.size === size) everyOnline();
      } else if (parsed?.kind === "result") {
        const result = JSON.parse(payload.toString()) as { transaction?: string; status?: string };
        const t0 = result.transaction === undefined ? undefined : sentAt.get(result.transaction);
        if (t0 === undefined) return;
        sentAt.delete(result.transaction ?? "");
        latencies.push(now - t0);
        if (result.status === "ok") ok++;
        if (sentAt.size === 0) everyAnswered();
      } else if (parsed === null && payload.length > 0) {
        discovered.add(topic);
        if (discovered.size === size) everyDiscovered();
      }
    });
    const filters = [
      topics.availability("+"),
      topics.result("+"),
      ...(discovery ? [haDeviceDiscoveryTopic(settings.ha.discoveryPrefix, "+")] : []),
    ];
    await observer.subscribeAsync(filters, { qos: 1 });

    // 1. Start-up: every PDU online (and discovered).
    const cpu0 = cpuSeconds(broker.pid);
    const t0 = performance.now();
    fleet = startFleet(size, dir, broker.url, protocol);
    await withTimeout(allOnline, 120_000, () => `${online.size} of ${size} PDUs online`);
    const onlineMs = performance.now() - t0;
    let discoveredMs: number | null = null;
    if (discovery) {
      await withTimeout(allDiscovered, 120_000, () => `${discovered.size} of ${size} PDUs discovered`);
      discoveredMs = performance.now() - t0;
    }
    const cpuStartupS = cpuSeconds(broker.pid) - cpu0;
    const rssOnlineMB = memory(broker.pid).rssMB;
    await sleep(2000);

    // 2. Burst: one command per outlet, all published at once.
    const outletCount = settings.pdu.outletCount;
    const cpu1 = cpuSeconds(broker.pid);
    const fleetCpu1 = cpuSeconds(fleet.pid);
    const burstStart = performance.now();
    const publishes: Promise<unknown>[] = [];
    for (const id of ids) {
      for (let n = 1; n <= outletCount; n++) {
        const transaction = `${id}-${n}`;
        sentAt.set(transaction, performance.now());
        publishes.push(
          observer.publishAsync(topics.set(id, n), JSON.stringify({ state: "ON", transaction }), { qos: 1 }),
        );
      }
    }
    const sent = sentAt.size;
    await Promise.all(publishes);
    await withTimeout(allAnswered, 60_000, () => `${sent - sentAt.size} of ${sent} commands answered`).catch(
      () => undefined,
    );
    const totalMs = performance.now() - burstStart;
    const cpuBurstS = cpuSeconds(broker.pid) - cpu1;
    const fleetCpuBurstS = cpuSeconds(fleet.pid) - fleetCpu1;
    const burstAnswered = latencies.length;
    const burstOk = ok;

    // 3. Steady state: the fleet publishing telemetry, no commands.
    const cpu2 = cpuSeconds(broker.pid);
    const steadyStart = performance.now();
    await sleep(steadySeconds * 1000);
    const cpuSteadyPct = ((cpuSeconds(broker.pid) - cpu2) / ((performance.now() - steadyStart) / 1000)) * 100;
    // 4. One command at a time, spread over the fleet: round trip through the broker twice and one PDU.
    const singles: number[] = [];
    const singleCount = Math.min(256, size * outletCount);
    for (let i = 0; i < singleCount; i++) {
      const id = ids[i % size] ?? "";
      const n = (Math.floor(i / size) % outletCount) + 1;
      const transaction = `single-${i}`;
      const before = latencies.length;
      const answered = new Promise<void>((resolve) => (everyAnswered = resolve));
      sentAt.set(transaction, performance.now());
      await observer.publishAsync(topics.set(id, n), JSON.stringify({ state: "OFF", transaction }), {
        qos: 1,
      });
      await withTimeout(answered, 10_000, () => `single command ${transaction} unanswered`);
      singles.push(latencies[before] ?? NaN);
    }
    const singleSorted = [...singles].sort((a, b) => a - b);
    latencies.length = burstAnswered;
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      broker: kind,
      pdus: size,
      outlets: size * outletCount,
      onlineMs: round(onlineMs),
      spreadMs: round(t0 + onlineMs - firstOnline),
      discoveredMs: discoveredMs === null ? null : round(discoveredMs),
      burst: {
        sent,
        answered: burstAnswered,
        ok: burstOk,
        lost: sent - burstAnswered,
        p50Ms: round(quantile(sorted, 0.5), 2),
        p99Ms: round(quantile(sorted, 0.99), 2),
        maxMs: round(sorted[sorted.length - 1] ?? NaN, 2),
        totalMs: round(totalMs),
      },
      single: {
        count: singleCount,
        p50Ms: round(quantile(singleSorted, 0.5), 2),
        p99Ms: round(quantile(singleSorted, 0.99), 2),
      },
      cpuStartupS: round(cpuStartupS, 2),
      cpuBurstS: round(cpuBurstS, 2),
      fleetCpuBurstS: round(fleetCpuBurstS, 2),
      cpuSteadyPct: round(cpuSteadyPct, 1),
      rssOnlineMB,
      rssPeakMB: memory(broker.pid).peakMB,
    };
  } finally {
    await fleet?.stop();
    await observer?.endAsync().catch(() => undefined);
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function benchSettings(dir: string, url: string): Settings {
  const { settings } = loadConfig({ argv: [], env: {} });
  return {
    ...settings,
    stateDir: dir,
    hardware: "sim",
    mqtt: { ...settings.mqtt, url },
    pdu: { ...settings.pdu, name: "Bench PDU" },
  };
}

interface BrokerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startBroker(kind: BrokerKind, dir: string): Promise<BrokerProcess> {
  const port = await freePort();
  let child: ChildProcess;
  if (kind !== "mosquitto") {
    const root = kind === "baseline" ? (BASELINE ?? ROOT) : ROOT;
    child = spawn(process.execPath, [path.join(root, "bin/pipdu.js"), "broker"], {
      env: {
        ...process.env,
        PIPDU_STATE_DIR: dir,
        PIPDU_BROKER_PORT: String(port),
        PIPDU_BROKER_WS_PORT: "0",
        PIPDU_BROKER_TLS_PORT: "0",
        PIPDU_LOG_LEVEL: "warn",
      },
      stdio: "ignore",
    });
  } else {
    // The tuning lines of deploy/mosquitto/mosquitto.conf; anonymous on loopback for the benchmark.
    const conf = writeMosquittoConf(dir, port, ["max_queued_messages 20000"]);
    child = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  }
  await waitForPort(port);
  const pid = child.pid ?? 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid,
    stop: () => stopChild(child),
  };
}

type FleetProcess = BrokerProcess;

/** `pipdu sim --pdus N`: the whole fleet in one process of its own, as a user would run it. */
function startFleet(size: number, dir: string, url: string, protocol: string): FleetProcess {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/pipdu.js"), "sim", "--pdus", String(size)], {
    env: {
      ...process.env,
      PIPDU_STATE_DIR: path.join(dir, "fleet-state"),
      PIPDU_MQTT_URL: url,
      PIPDU_MQTT_PROTOCOL: protocol,
      PIPDU_LOG_LEVEL: "warn",
    },
    stdio: "ignore",
  });
  return { url, pid: child.pid ?? 0, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function memory(pid: number): { rssMB: number; peakMB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kB = (key: string): number =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMB: round(kB("VmRSS") / 1024, 1), peakMB: round(kB("VmHWM") / 1024, 1) };
}

function medianRun(runs: FleetRun[]): FleetRun | undefined {
  const first = runs[0];
  if (!first) return undefined;
  const m = (pick: (r: FleetRun) => number | null): number =>
    median(runs.map(pick).filter((v): v is number => v !== null));
  return {
    broker: first.broker,
    pdus: first.pdus,
    outlets: first.outlets,
    onlineMs: m((r) => r.onlineMs),
    spreadMs: m((r) => r.spreadMs),
    discoveredMs: first.discoveredMs === null ? null : m((r) => r.discoveredMs),
    burst: {
      sent: first.burst.sent,
      answered: Math.min(...runs.map((r) => r.burst.answered)),
      ok: Math.min(...runs.map((r) => r.burst.ok)),
      lost: Math.max(...runs.map((r) => r.burst.lost)),
      p50Ms: m((r) => r.burst.p50Ms),
      p99Ms: m((r) => r.burst.p99Ms),
      maxMs: m((r) => r.burst.maxMs),
      totalMs: m((r) => r.burst.totalMs),
    },
    single: { count: first.single.count, p50Ms: m((r) => r.single.p50Ms), p99Ms: m((r) => r.single.p99Ms) },
    cpuStartupS: m((r) => r.cpuStartupS),
    cpuBurstS: m((r) => r.cpuBurstS),
    fleetCpuBurstS: m((r) => r.fleetCpuBurstS),
    cpuSteadyPct: m((r) => r.cpuSteadyPct),
    rssOnlineMB: m((r) => r.rssOnlineMB),
    rssPeakMB: m((r) => r.rssPeakMB),
  };
}

/** The markdown table docs/performance.md carries under "Fleet". */
export function fleetTable(result: FleetBenchResult): string {
  const kinds = (Object.keys(result.medians) as BrokerKind[]).filter((k) => result.medians[k] !== undefined);
  const cols = kinds.map((k) => result.medians[k] as FleetRun);
  const label: Record<BrokerKind, string> = {
    embedded: "embedded (pipdu broker)",
    "embedded-3.1.1": "embedded, parts on MQTT 3.1.1",
    mosquitto: "Mosquitto 2 (set_tcp_nodelay)",
    baseline: `baseline (${BASELINE ?? ""})`,
  };
  const row = (name: string, cell: (r: FleetRun) => string): string =>
    `| ${name} | ${cols.map(cell).join(" | ")} |`;
  const ms = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v} ms`);
  return [
    `| ${cols[0]?.pdus ?? 0} PDUs, ${cols[0]?.outlets ?? 0} outlets | ${kinds.map((k) => label[k]).join(" | ")} |`,
    `|---|${kinds.map(() => "---").join("|")}|`,
    row("every PDU online, from launching `pipdu sim`", (r) => ms(r.onlineMs)),
    row("first PDU online to last", (r) => ms(r.spreadMs)),
    row("every PDU discovered (HA)", (r) => (r.discoveredMs === null ? "n/a" : ms(r.discoveredMs))),
    row(
      "burst: commands answered / sent",
      (r) => `${r.burst.answered} / ${r.burst.sent} (${r.burst.ok} ok, ${r.burst.lost} lost)`,
    ),
    row("burst: latency p50 / p99", (r) => `${r.burst.p50Ms} / ${r.burst.p99Ms} ms`),
    row("burst: first command to last result", (r) => ms(r.burst.totalMs)),
    row("one command at a time: p50 / p99", (r) => `${r.single.p50Ms} / ${r.single.p99Ms} ms`),
    row("broker CPU: fleet start-up", (r) => `${r.cpuStartupS} s`),
    row("broker CPU: burst", (r) => `${r.cpuBurstS} s`),
    row("fleet process CPU: burst", (r) => `${r.fleetCpuBurstS} s`),
    row("broker CPU: steady telemetry", (r) => `${r.cpuSteadyPct} % of a core`),
    row("broker memory: RSS online / peak", (r) => `${r.rssOnlineMB} / ${r.rssPeakMB} MB`),
  ].join("\n");
}

/** For `npm run bench` (bench/run.ts): the fleet section as markdown. */
export async function run(): Promise<string> {
  const result = await runFleetBench();
  return ["### Fleet (64 simulated PDUs, medians)", "", fleetTable(result)].join("\n");
}

function hasMosquitto(): boolean {
  return spawnSync("mosquitto", ["-h"]).error === undefined;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : round(((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2, 2);
}

function round(v: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms)),
  );
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function argValue(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  const argv = process.argv.slice(2);
  const result = await runFleetBench({
    pdus: Number(argValue(argv, "--pdus") ?? 64),
    runs: Number(argValue(argv, "--runs") ?? 3),
    ...(argValue(argv, "--brokers")
      ? { brokers: (argValue(argv, "--brokers") ?? "").split(",") as BrokerKind[] }
      : {}),
  });
  console.log(fleetTable(result));
}

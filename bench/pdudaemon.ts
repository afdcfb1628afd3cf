// The PDUDaemon API against Debian's PDUDaemon, side by side in one run: the same stdlib HTTP client, a new
// connection per request (as pduclient, curl and labgrid make them), on/off alternating, rounds of each
// target interleaved. PDUDaemon drives a `localcmdline` PDU (a shell `echo` per command); piPDU is a
// standalone `pipdu start` (embedded broker, agent on the simulated PDU, panel and gateway in one node
// process, started directly, no npm). CPU per request is the process tree's user + system time from
// /proc/<pid>/stat, reaped children included (PDUDaemon's shells), divided by the requests.
// Two phases: just started (300 warm-up requests, then the rounds one at a time), and warm, after
// BENCH_WARMUP (5,000) more requests to each target: a PDU serves board farms for months, and Node's
// optimising compiler takes a few thousand requests to reach its steady state (Python has no such phase).
// The goals are judged warm; the just-started figures are reported beside them.
// Alone: node --import tsx bench/pdudaemon.ts   (BENCH_ROUNDS=3, BENCH_REQUESTS=300, BENCH_WARMUP=5000)
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { freePort, ROOT, waitForPort } from "../test/helpers/system.ts";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 300);
const CONCURRENCY = 16;
const WARMUP = Number(process.env["BENCH_WARMUP"] ?? 5000);
const TICK_MS = 1000 / 100; // USER_HZ; Linux reports CPU times in clock ticks of 10 ms

export const hasPdudaemon = spawnSync("pdudaemon", ["--help"]).error === undefined;

interface Target {
  name: string;
  pid: number;
  port: number;
  hostname: string;
}

interface Round {
  perSecond: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
}

/** Every process of the tree rooted at pid, from /proc's parent links. */
function tree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields === null) continue;
    const ppid = Number(fields[1]);
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const visit = (p: number): void => {
    out.push(p);
    for (const child of parents.get(p) ?? []) visit(child);
  };
  visit(pid);
  return out;
}

/** The fields after the command name of /proc/<pid>/stat: [0] state, [1] ppid, … [11] utime, [12] stime, [13] cutime, [14] cstime. */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** CPU ms used so far by the tree: its live processes plus every child they have reaped. */
export function treeCpuMs(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    const f = statFields(p);
    if (f === null) continue;
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks * TICK_MS;
}

/** One GET on a connection of its own, answered when the body has arrived. */
/** One GET on a new connection; rejects unless the answer is 200. */
export function get(port: number, pathAndQuery: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: pathAndQuery, agent: false }, (res) => {
      res.resume();
      res.once("end", () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode ?? 0} ${pathAndQuery}`)),
      );
    });
    req.once("error", reject);
  });
}

async function round(target: Target, total: number, concurrency: number): Promise<Round> {
  const latencies: number[] = [];
  let next = 0;
  const cpuBefore = treeCpuMs(target.pid);
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const outlet = (i % 8) + 1;
      const command = Math.floor(i / 8) % 2 === 0 ? "on" : "off";
      const t0 = performance.now();
      await get(target.port, `/power/control/${command}?hostname=${target.hostname}&port=${outlet}`);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  // PDUDaemon answers before its worker has run the command: let the last shells finish and be reaped.
  await new Promise((r) => setTimeout(r, 300));
  const cpu = treeCpuMs(target.pid) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const at = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { perSecond: total / seconds, p50: at(0.5), p99: at(0.99), cpuMsPerRequest: cpu / total };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export async function startPdudaemon(dir: string, cleanups: (() => void)[]): Promise<Target> {
  const port = await freePort();
  const conf = path.join(dir, "pdudaemon.conf");
  fs.writeFileSync(
    conf,
    JSON.stringify({
      daemon: { hostname: "127.0.0.1", port, logging_level: "ERROR", listener: "http" },
      pdus: { bench: { driver: "localcmdline", cmd_on: "echo '%s on'", cmd_off: "echo '%s off'" } },
    }),
  );
  const child = spawn(
    "pdudaemon",
    ["--conf", conf, "--loglevel", "ERROR", "--logfile", path.join(dir, "pdudaemon.log")],
    { stdio: "ignore" },
  );
  cleanups.push(() => child.kill("SIGKILL"));
  await waitForPort(port, 20_000);
  return { name: "PDUDaemon", pid: child.pid ?? 0, port, hostname: "bench" };
}

/** A standalone `pipdu start` of the checkout at `root` (this one by default), answering once its PDU is online. */
export async function startPipdu(
  dir: string,
  cleanups: (() => void)[],
  extraArgs: string[] = [],
  root = ROOT,
): Promise<Target & { child: ChildProcess }> {
  const [mqttPort, httpPort, port] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, [...extraArgs, path.join(root, "bin/pipdu.js"), "start"], {
    env: {
      ...process.env,
      PIPDU_RUNTIME: "dist",
      PIPDU_HARDWARE: "sim",
      PIPDU_STATE_DIR: path.join(dir, "pipdu"),
      PIPDU_BROKER_HOST: "127.0.0.1",
      PIPDU_BROKER_PORT: String(mqttPort),
      PIPDU_BROKER_WS_PORT: "0",
      PIPDU_HTTP_PORT: String(httpPort),
      PIPDU_PDUDAEMON_PORT: String(port),
      PIPDU_PANEL_PORT: "0",
      PIPDU_GATEWAY_HOST: "127.0.0.1",
      PIPDU_LOG_LEVEL: "warn",
    },
    stdio: "ignore",
    cwd: dir,
  });
  cleanups.push(() => child.kill("SIGKILL"));
  await waitForPort(port, 30_000);
  // Online: the gateway answers a command only once the agent is there.
  for (let i = 0; ; i++) {
    try {
      await get(port, "/power/control/off?hostname=pdu1&port=16");
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { name: "piPDU", pid: child.pid ?? 0, port, hostname: "pdu1", child };
}

interface Summary {
  perSecond: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
}

function summarise(rounds: Round[]): Summary {
  return {
    perSecond: median(rounds.map((r) => r.perSecond)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    cpuMsPerRequest: median(rounds.map((r) => r.cpuMsPerRequest)),
  };
}

export async function runPdudaemonBenchmark(): Promise<string> {
  if (!hasPdudaemon)
    return "### PDUDaemon API against PDUDaemon\n\nskipped: `pdudaemon` is not installed (apt-get install pdudaemon)";
  const cleanups: (() => void)[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-bench-pd-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  try {
    const targets = [await startPdudaemon(dir, cleanups), await startPipdu(dir, cleanups)];
    for (const target of targets) await round(target, 300, 1); // first connections, first compilations
    const cold = await compare(targets, [1]);
    for (const target of targets) await round(target, WARMUP, 1);
    const warm = await compare(targets, [1, CONCURRENCY]);
    return [
      `### PDUDaemon API: piPDU against PDUDaemon ${pdudaemonVersion()} (${ROUNDS} interleaved rounds of ${REQUESTS} per target)`,
      "",
      `Warm (after ${WARMUP + 300 + ROUNDS * REQUESTS} requests to each target):`,
      "",
      ...warm,
      "",
      "Just started (after 300 requests):",
      "",
      ...cold,
    ].join("\n");
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
  }
}

/** Interleaved rounds at each concurrency: the table, then the ratios. */
async function compare(targets: Target[], concurrencies: number[]): Promise<string[]> {
  const lines: string[] = [
    "| in flight | target | requests/s | p50 ms | p99 ms | CPU per request ms |",
    "|---:|---|---:|---:|---:|---:|",
  ];
  const ratios: string[] = [];
  for (const concurrency of concurrencies) {
    const rounds = new Map<string, Round[]>(targets.map((t) => [t.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) rounds.get(target.name)?.push(await round(target, REQUESTS, concurrency));
    }
    const s = targets.map((t) => ({ name: t.name, ...summarise(rounds.get(t.name) ?? []) }));
    for (const x of s) {
      lines.push(
        `| ${concurrency} | ${x.name} | ${x.perSecond.toFixed(0)} | ${x.p50.toFixed(2)} | ${x.p99.toFixed(2)} | ${x.cpuMsPerRequest.toFixed(2)} |`,
      );
    }
    const [pd, pi] = s;
    if (pd && pi) {
      ratios.push(
        `${concurrency} in flight: piPDU/PDUDaemon requests/s ${(pi.perSecond / pd.perSecond).toFixed(2)}× (goal ≥ 2× one at a time), CPU per request ${(pi.cpuMsPerRequest / pd.cpuMsPerRequest).toFixed(2)}× (goal ≤ 0.5×), p50 ${(pi.p50 / pd.p50).toFixed(2)}×`,
      );
    }
  }
  return [...lines, "", ...ratios.map((r) => `- ${r}`)];
}

function pdudaemonVersion(): string {
  const out = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "pdudaemon"], { encoding: "utf8" });
  return out.status === 0 ? out.stdout.trim() : "(version unknown)";
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  console.log(await runPdudaemonBenchmark());
  process.exit(0);
}

// What a change bought: several builds of piPDU (each a checkout with its own compiled dist/) serving the
// PDUDaemon API side by side, rounds interleaved (the order reversed every other round), one request at a
// time on a new connection each, as bench/pdudaemon.ts does. Prints median requests/s, CPU per request (the
// process tree's, from /proc) and p50 per build.
//   git archive <commit> | tar -x -C /tmp/b1 && ln -s $PWD/node_modules /tmp/b1/ && (cd /tmp/b1 && node scripts/build.js)
//   node --import tsx bench/compare-builds.ts /tmp/b1 /tmp/b2 …   (BENCH_ROUNDS=5, BENCH_REQUESTS=300)
// A build given as `<dir>::<node flags>` runs with those flags (e.g. `/tmp/b1::--single-threaded-gc`).
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { get, median, startPipdu, treeCpuMs } from "./pdudaemon.ts";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 300);

interface Build {
  root: string;
  child: ChildProcess;
  port: number;
  rounds: { perSecond: number; cpuMs: number; p50: number }[];
}

async function start(spec: string): Promise<Build> {
  const [dirName = "", flags = ""] = spec.split("::");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-compare-"));
  const nodeFlags = flags.split(" ").filter((f) => f.length > 0);
  const target = await startPipdu(dir, [], nodeFlags, path.resolve(dirName));
  return { root: spec, child: target.child, port: target.port, rounds: [] };
}

const builds: Build[] = [];
try {
  for (const spec of process.argv.slice(2)) builds.push(await start(spec));
  for (let r = 0; r < ROUNDS; r++) {
    for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
      const latencies: number[] = [];
      const cpu0 = treeCpuMs(b.child.pid ?? 0);
      const t0 = performance.now();
      for (let i = 0; i < REQUESTS; i++) {
        const command = Math.floor(i / 8) % 2 === 0 ? "on" : "off";
        const started = performance.now();
        await get(b.port, `/power/control/${command}?hostname=pdu1&port=${(i % 8) + 1}`);
        latencies.push(performance.now() - started);
      }
      const seconds = (performance.now() - t0) / 1000;
      b.rounds.push({
        perSecond: REQUESTS / seconds,
        cpuMs: (treeCpuMs(b.child.pid ?? 0) - cpu0) / REQUESTS,
        p50: median(latencies),
      });
    }
  }
  console.log("| build | requests/s | CPU per request ms | p50 ms |\n|---|---:|---:|---:|");
  for (const b of builds) {
    const m = (f: (x: Build["rounds"][number]) => number): number => median(b.rounds.map(f));
    console.log(
      `| ${b.root} | ${m((x) => x.perSecond).toFixed(0)} | ${m((x) => x.cpuMs).toFixed(2)} | ${m((x) => x.p50).toFixed(2)} |`,
    );
  }
} finally {
  for (const b of builds) b.child.kill("SIGKILL");
}
process.exit(0);

// CPU profile of a standalone `pipdu start` serving PDUDaemon HTTP on/off, a new connection per request, as
// bench/pdudaemon.ts drives it. Prints the self time by function and by file (top entries) and leaves the
// .cpuprofile for Chrome DevTools or speedscope.
// Run: node --import tsx bench/profile-pdudaemon.ts [requests=3000] [concurrency=1]
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { startPipdu } from "./pdudaemon.ts";
import { ROOT } from "../test/helpers/system.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const requests = Number(process.argv[2] ?? 3000);
const concurrency = Number(process.argv[3] ?? 1);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-profile-"));
const profDir = path.join(dir, "prof");
const cleanups: (() => void)[] = [];
const target = await startPipdu(dir, cleanups, ["--cpu-prof", "--cpu-prof-dir", profDir]);

let next = 0;
const worker = async (): Promise<void> => {
  for (;;) {
    const i = next++;
    if (i >= requests) return;
    const command = Math.floor(i / 8) % 2 === 0 ? "on" : "off";
    await new Promise<void>((resolve, reject) => {
      http
        .get(
          {
            host: "127.0.0.1",
            port: target.port,
            path: `/power/control/${command}?hostname=pdu1&port=${(i % 8) + 1}`,
            agent: false,
          },
          (res) => {
            res.resume();
            res.once("end", resolve);
          },
        )
        .once("error", reject);
    });
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - t0) / 1000;
target.child.kill("SIGTERM");
await new Promise((r) => target.child.once("exit", r));

const file = fs.readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
if (file === undefined) throw new Error("no profile written");
const profile = JSON.parse(fs.readFileSync(path.join(profDir, file), "utf8")) as Profile;
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const us = self.get(node.id) ?? 0;
  total += us;
  const where = node.callFrame.url.replace(`file://${ROOT}/`, "").replace(/.*node_modules\//, "~/");
  const fn = `${node.callFrame.functionName || "(anonymous)"} ${where}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  const key = where === "" ? node.callFrame.functionName : where.replace(/^(~\/[^/]+(?:\/[^/]+)?)\/.*/, "$1");
  byFile.set(key, (byFile.get(key) ?? 0) + us);
}
const top = (m: Map<string, number>, n: number): string[] =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`);
console.log(`${requests} requests, ${concurrency} in flight, ${(requests / seconds).toFixed(0)} requests/s`);
console.log(`profile: ${path.join(profDir, file)} (${(total / 1000).toFixed(0)} ms sampled)\n`);
console.log("by file or package:\n" + top(byFile, 25).join("\n"));
console.log("\nby function:\n" + top(byFunction, 40).join("\n"));
for (const cleanup of cleanups) cleanup();

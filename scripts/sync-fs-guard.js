// Preload (node --import ./scripts/sync-fs-guard.js …) that finds synchronous file I/O on the event loop
// after start-up. Start-up may read its configuration synchronously; a steady-state path must not block
// every part of the process on the disk.
//
// Every fs.*Sync function is wrapped. The first SIGUSR2 marks "started": from then on each call is recorded
// with its stack. The next SIGUSR2 writes the record as JSON to $PIPDU_SYNC_FS_REPORT (and keeps watching;
// each later SIGUSR2 rewrites the report). test/no-sync-fs.test.ts drives `pipdu start` this way.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { fileURLToPath } from "node:url";

const GUARD = fileURLToPath(import.meta.url);
const report = process.env.PIPDU_SYNC_FS_REPORT;
const writeReport = fs.writeFileSync;
const calls = [];
let armed = false;

/** The stack without this file's frame, and the first frame in the program's own code (not node_modules). */
function where() {
  const frames = (new Error().stack ?? "")
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => !l.includes(GUARD));
  const own = frames.find((l) => !l.includes("node:") && !l.includes("/node_modules/")) ?? frames[0] ?? "";
  const file = /\(?((?:file:\/\/)?\/[^():]+)(?::\d+)*\)?$/.exec(own)?.[1]?.replace("file://", "") ?? own;
  return { file, stack: frames.slice(0, 12) };
}

for (const name of Object.keys(fs)) {
  const original = fs[name];
  if (!name.endsWith("Sync") || typeof original !== "function") continue;
  fs[name] = function guarded(...args) {
    if (armed) {
      const target = typeof args[0] === "string" || args[0] instanceof URL ? String(args[0]) : undefined;
      calls.push({ fn: `fs.${name}`, target, ...where() });
    }
    return original.apply(this, args);
  };
}
syncBuiltinESMExports(); // so `import { writeFileSync } from "node:fs"` gets the wrapped function too

process.on("SIGUSR2", () => {
  if (!armed) {
    armed = true;
    return;
  }
  if (report === undefined) return;
  armed = false; // the report's own write is not a finding
  writeReport(report, JSON.stringify({ pid: process.pid, calls }, null, 1));
  armed = true;
});

#!/usr/bin/env node
// Runs the compiled build (dist/, made by `npm ci` / `npm run build`) when it is up to date with the sources,
// and the TypeScript sources through tsx otherwise, so a change never runs stale code.
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const SOURCE_DIRS = [
  "lib",
  "client",
  "protocol",
  "broker",
  "pdu-agent",
  "panel-agent",
  "gateway",
  "homeassistant",
  "config",
  "cli",
  "log",
];

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function buildIsFresh() {
  try {
    const built = fs.statSync(path.join(root, "dist/.stamp")).mtimeMs;
    return SOURCE_DIRS.every(
      (d) => !fs.existsSync(path.join(root, d)) || newestSource(path.join(root, d)) <= built,
    );
  } catch {
    return false;
  }
}

// PIPDU_RUNTIME=dist or =source forces one (benchmarks, debugging).
const runtime = process.env.PIPDU_RUNTIME;
let main;
if (runtime === "dist" || (runtime !== "source" && buildIsFresh())) {
  ({ main } = await import("../dist/cli/main.js"));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../cli/main.ts"));
}
process.exitCode = await main(process.argv.slice(2));

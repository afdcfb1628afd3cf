#!/usr/bin/env node
// Runs the compiled build (dist/, made by `npm ci` / `npm run build`, shipped in the release tarball) when it
// is up to date with the sources, and the TypeScript sources through tsx otherwise, so a change never runs
// stale code.
import fs from "node:fs";
import path from "node:path";
import { ROOT, SOURCE_DIRS, sourceFiles } from "./sources.js";

function buildIsFresh() {
  try {
    const built = fs.statSync(path.join(ROOT, "dist/.stamp")).mtimeMs;
    const files = SOURCE_DIRS.flatMap(sourceFiles);
    // A release (npm pack) ships the build and no TypeScript: nothing to compare with.
    if (!files.some((file) => file.endsWith(".ts"))) return true;
    return files.every((file) => fs.statSync(path.join(ROOT, file)).mtimeMs <= built);
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

// npm test and npm run test:<kind>: run the test files of the given kinds (package.json "testKinds") with ava,
// then say whether the firmware contract tests ran. They need the host-built firmware bridge; when it is
// missing it is built here if a compiler is at hand, and otherwise the closing line says they were skipped.
//   node scripts/test.js unit integration [ava options, e.g. --match '*budget*']
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../bin/sources.js";

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const kinds = pkg.testKinds;
// Kinds first; from the first option on (npm run test:unit -- --match x), arguments are ava's.
const args = process.argv.slice(2);
const first = args.findIndex((a) => a.startsWith("-"));
const wanted = first === -1 ? args : args.slice(0, first);
const extra = first === -1 ? [] : args.slice(first).filter((a, i) => !(i === 0 && a === "--"));
for (const kind of wanted) {
  if (!(kind in kinds)) {
    console.error(`scripts/test.js: unknown test kind "${kind}"; kinds: ${Object.keys(kinds).join(", ")}`);
    process.exit(2);
  }
}
const patterns = wanted.flatMap((kind) => kinds[kind]);

const BRIDGE = "firmware/build/pipdu-bridge";
const bridge = path.join(ROOT, BRIDGE);
// The firmware contract tests are among the integration and system tests.
const firmwareTests = wanted.some((kind) => kind === "integration" || kind === "system");
let skipReason = null;
if (firmwareTests && !fs.existsSync(bridge)) {
  const make = spawnSync("make", ["-C", "firmware", "bridge"], { cwd: ROOT, encoding: "utf8" });
  if (make.error) skipReason = `make is not installed (${BRIDGE} cannot be built)`;
  else if (make.status !== 0)
    skipReason = `make -C firmware bridge failed: ${(make.stderr || make.stdout).trim().split("\n").at(-1)}`;
  else console.log(`built ${BRIDGE} (make -C firmware bridge) for the firmware contract tests`);
}

const ava = spawnSync(
  process.execPath,
  [path.join(ROOT, "node_modules/ava/entrypoints/cli.mjs"), ...patterns, ...extra],
  { cwd: ROOT, stdio: "inherit" },
);
if (skipReason !== null)
  console.log(
    `\n  firmware contract tests SKIPPED: ${skipReason}; run make -C firmware bridge, then test again`,
  );
else if (firmwareTests) console.log(`\n  firmware contract tests ran against ${BRIDGE}`);
process.exit(ava.status ?? 1);

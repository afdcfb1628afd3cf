// Compile the TypeScript sources to dist/ (plain JavaScript: a lighter process than running through tsx),
// copy every other file of the source folders (web pages, styles, YAML) beside them, and stamp the build
// so bin/pipdu.js can tell when it is stale.
import { execFileSync } from "node:child_process";
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

const tsc = path.join(root, "node_modules/typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit" });

function copyAssets(dir) {
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(rel);
    else if (!entry.name.endsWith(".ts")) fs.cpSync(path.join(root, rel), path.join(root, "dist", rel));
  }
}
for (const dir of SOURCE_DIRS) if (fs.existsSync(path.join(root, dir))) copyAssets(dir);
fs.writeFileSync(path.join(root, "dist/.stamp"), new Date().toISOString());

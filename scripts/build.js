// Compile the TypeScript sources to dist/ (plain JavaScript: a lighter process than running through tsx),
// copy the static web assets beside them, and stamp the build so bin/pipdu.js can tell when it is stale.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const tsc = path.join(root, "node_modules/typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit" });
for (const dir of ["gateway/public", "panel-agent/public"]) {
  const from = path.join(root, dir);
  if (fs.existsSync(from)) fs.cpSync(from, path.join(root, "dist", dir), { recursive: true });
}
fs.writeFileSync(path.join(root, "dist/.stamp"), new Date().toISOString());

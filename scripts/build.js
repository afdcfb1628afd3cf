// Compile the TypeScript sources to dist/ (plain JavaScript: a lighter process than running through tsx),
// copy every other file of the source folders (web pages, styles, YAML) beside them, and stamp the build
// so bin/pipdu.js can tell when it is stale.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT, SOURCE_DIRS, sourceFiles } from "../bin/sources.js";

const tsc = path.join(ROOT, "node_modules/typescript/bin/tsc");
if (!fs.existsSync(tsc)) {
  // A release tarball (npm pack) carries the build; installing it with --omit=dev has nothing to compile.
  if (fs.existsSync(path.join(ROOT, "dist/.stamp"))) process.exit(0);
  // A production install of the sources (npm ci --omit=dev) has no compiler: pipdu then runs them through tsx.
  console.error("pipdu build: typescript is not installed, skipping the build (the sources run through tsx)");
  process.exit(0);
}
// From scratch: a source that was removed or moved (test-only code now under test/) must not linger in dist/.
fs.rmSync(path.join(ROOT, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", path.join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
for (const file of SOURCE_DIRS.flatMap(sourceFiles)) {
  if (!file.endsWith(".ts")) fs.cpSync(path.join(ROOT, file), path.join(ROOT, "dist", file));
}
fs.writeFileSync(path.join(ROOT, "dist/.stamp"), new Date().toISOString());

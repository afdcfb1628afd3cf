// Apply patches/ (the Aedes fixes the embedded broker needs) to the Aedes this package runs with. In a checkout
// that is ./node_modules/aedes; in an installed release (npm install <tarball>) npm hoists Aedes into the
// application's node_modules, where patch-package run from this package would not look, so it runs from there.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const require = createRequire(import.meta.url);
const bin = path.join(path.dirname(require.resolve("patch-package/package.json")), "index.js");

const local = fs.existsSync(path.join(root, "node_modules", "aedes"));
const app = process.env.INIT_CWD ?? process.cwd();
const cwd = local ? root : app;
const args = local ? [] : ["--patch-dir", path.relative(app, path.join(root, "patches"))];
if (!local && !fs.existsSync(path.join(app, "node_modules", "aedes"))) {
  console.error(
    `pipdu: no node_modules/aedes under ${root} or ${app}: the embedded broker's patches are not applied`,
  );
  process.exit(1);
}
const run = spawnSync(process.execPath, [bin, ...args], { cwd, stdio: "inherit" });
process.exit(run.status ?? 1);

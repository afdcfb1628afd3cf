// Apply patches/ (the Aedes fixes the embedded broker needs) to the Aedes this package runs with. In a checkout
// that is ./node_modules/aedes; in an installed release (npm install <tarball>) npm hoists Aedes into the
// application's node_modules, two levels up, which the patch-package command would not find from here (and it
// needs a package.json there), so its applier is called with that application's path.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const require = createRequire(import.meta.url);
const { applyPatchesForApp } = require("patch-package/dist/applyPatches");

const local = fs.existsSync(path.join(root, "node_modules", "aedes"));
const appPath = local ? root : path.resolve(root, "..", "..");
if (!fs.existsSync(path.join(appPath, "node_modules", "aedes"))) {
  console.error(
    `pipdu: no node_modules/aedes under ${root} or ${appPath}: the embedded broker's patches are not applied`,
  );
  process.exit(1);
}
// The applier resolves the files it patches from the working directory.
process.chdir(appPath);
applyPatchesForApp({
  appPath,
  reverse: false,
  patchDir: path.relative(appPath, path.join(root, "patches")),
  shouldExitWithError: true,
  shouldExitWithWarning: false,
  bestEffort: false,
});

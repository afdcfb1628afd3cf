// The release tarball (npm pack): it carries the compiled build, and installing it with --omit=dev compiles
// nothing (no TypeScript on a Pi Zero's 512 MB), links `pipdu`, and runs from dist/.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import { ROOT, tempDir } from "./helpers/system.ts";

const built = fs.existsSync(path.join(ROOT, "dist/.stamp"));
const version = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string })
  .version;

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

// dist/ is what `npm ci` (prepare) and `npm pack` (prepack) build; the test packs the build already there
// instead of rebuilding it under the other tests' feet.
(built ? test : test.skip)(
  `npm pack ships dist/ and the web assets, and npm install --omit=dev of it runs pipdu without a compile${built ? "" : " (skipped: dist/ is not built; run npm run build)"}`,
  (t) => {
    t.timeout(300_000);
    const dir = tempDir(t);
    const pack = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT);
    t.is(pack.status, 0, pack.out);
    const tarball = path.join(dir, `pipdu-${version}.tgz`);
    const listing = run("tar", ["-tzf", tarball], dir).out.split("\n");
    for (const file of [
      "package/bin/pipdu.js",
      "package/dist/.stamp",
      "package/dist/cli/main.js",
      "package/dist/gateway/gateway.js",
      "package/gateway/public/index.html",
      "package/docs/openapi.yaml",
      "package/deploy/install.sh",
    ])
      t.true(listing.includes(file), file);
    t.deepEqual(
      listing.filter((f) => /\.ts$|^package\/test\/|\.map$/.test(f)),
      [],
      "no TypeScript sources, tests or source maps",
    );

    const app = path.join(dir, "app");
    fs.mkdirSync(app);
    const install = run(
      "npm",
      ["install", "--omit=dev", "--omit=optional", "--no-audit", "--no-fund", "--prefer-offline", tarball],
      app,
    );
    t.is(install.status, 0, install.out);
    const installed = path.join(app, "node_modules/pipdu");
    t.false(fs.existsSync(path.join(app, "node_modules/typescript")), "no compiler installed");
    t.is(
      fs.readFileSync(path.join(installed, "dist/.stamp"), "utf8"),
      fs.readFileSync(path.join(ROOT, "dist/.stamp"), "utf8"),
      "the shipped build is used as it is",
    );
    const bin = path.join(app, "node_modules/.bin/pipdu");
    const v = run(bin, ["--version"], app);
    t.is(v.out, `pipdu ${version}\n`);
    // PIPDU_RUNTIME=dist refuses to fall back to the sources: this runs the shipped build.
    const check = run(bin, ["config", "check", "--pdu.id", "rack1"], app, { PIPDU_RUNTIME: "dist" });
    t.is(check.status, 0, check.out);
    t.is(check.out, "configuration ok\n");
  },
);

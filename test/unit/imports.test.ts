// Imports point down: protocol/, lib/ and log/ at the bottom, config/ above them, the parts above that,
// cli/ on top. A part never imports another part's internals, only its published entry points.
import fs from "node:fs";
import path from "node:path";
import test from "ava";

const ROOT = path.resolve(import.meta.dirname, "../..");
const LAYER: Record<string, number> = {
  protocol: 0,
  lib: 0,
  log: 0,
  config: 1,
  "pdu-agent": 2,
  "panel-agent": 2,
  gateway: 2,
  broker: 2,
  homeassistant: 2,
  client: 2,
  cli: 3,
};
/** What a part offers other parts: the agent's extension interface, the shared MQTT client of every PDU. */
const PUBLIC = new Set(["pdu-agent/plugin.ts", "client/pdu-directory.ts", "client/pdu-activity.ts"]);

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(rel);
    return entry.name.endsWith(".ts") ? [rel] : [];
  });
}

function importsOf(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;
  for (const m of text.matchAll(pattern)) if (m[1]) found.push(m[1]);
  return found;
}

/** Why `file` may not import `specifier`, or null when it may. */
function violation(file: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null; // packages and node: built-ins
  const from = file.split("/")[0] ?? "";
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  const to = target.split("/")[0] ?? "";
  if (from === to) return null;
  const a = LAYER[from];
  const b = LAYER[to];
  if (a === undefined) return null;
  if (b === undefined) return `${file} imports ${target}, outside the source tree`;
  if (b > a) return `${file} imports ${target}: ${to}/ is above ${from}/`;
  if (a === b && a === 2 && !PUBLIC.has(target))
    return `${file} imports ${target}: another part's internals (published: ${[...PUBLIC].join(", ")})`;
  if (a === b && a !== 0 && a !== 2) return `${file} imports ${target}: ${to}/ is beside ${from}/`;
  return null;
}

test("no import points up, and no part imports another part's internals", (t) => {
  const problems = Object.keys(LAYER)
    .flatMap(sources)
    .flatMap((file) =>
      importsOf(fs.readFileSync(path.join(ROOT, file), "utf8")).flatMap((s) => violation(file, s) ?? []),
    );
  t.deepEqual(problems, []);
});

test("the check does catch an import pointing up or into another part", (t) => {
  t.regex(
    violation("config/schema.ts", "../panel-agent/config-schema.ts") ?? "",
    /panel-agent\/ is above config\//,
  );
  t.regex(violation("panel-agent/drivers/x.ts", "../../pdu-agent/hardware/i2c-bus.ts") ?? "", /internals/);
  t.regex(violation("lib/x.ts", "../config/settings.ts") ?? "", /config\/ is above lib\//);
  t.is(violation("homeassistant/x.ts", "../pdu-agent/plugin.ts"), null);
  t.is(violation("cli/run.ts", "../pdu-agent/create-agent.ts"), null);
  t.deepEqual(importsOf('import a from "./a.ts";\nimport "./b.ts";\nconst c = await import("../c.ts");'), [
    "./a.ts",
    "./b.ts",
    "../c.ts",
  ]);
});

test("test-only code is not compiled into dist/", (t) => {
  const build = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.build.json"), "utf8")) as {
    include: string[];
  };
  t.false(build.include.includes("test"));
  for (const file of Object.keys(LAYER).flatMap(sources)) {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    t.false(/from\s+["'][./]*test\//.test(text), `${file} imports from test/`);
  }
});

// The Dockerfile, checked without Docker: stages, what reaches the final image, the user it runs as.
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import { ROOT } from "./helpers/system.ts";

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  steps: Instruction[];
}

/** Instructions with line continuations joined and comments dropped, grouped by FROM. */
function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (line === "" && current === "")) continue;
    current += (current ? " " : "") + line.replace(/\\$/, "").trim();
    if (!line.endsWith("\\")) {
      logical.push(current);
      current = "";
    }
  }
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op = "", ...rest] = line.split(/\s+/);
    const instruction = { op: op.toUpperCase(), args: rest.join(" ") };
    if (instruction.op === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      stages.push({ from: m?.[1] ?? "", name: m?.[2] ?? String(stages.length), steps: [] });
    } else if (stages.length === 0) args.push(instruction);
    else stages[stages.length - 1]?.steps.push(instruction);
  }
  return { args, stages };
}

const dockerfile = fs.readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
const { args, stages } = parseDockerfile(dockerfile);
const final = stages[stages.length - 1];
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
};
const dockerignore = fs
  .readFileSync(path.join(ROOT, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

test("three stages from the same multi-arch Node base: dependencies, build, then runtime", (t) => {
  t.deepEqual(
    stages.map((s) => s.name),
    ["deps", "build", "runtime"],
  );
  t.true(args.some((a) => a.op === "ARG" && /^NODE_VERSION=\d+$/.test(a.args)));
  // Official node images are published for linux/amd64 and linux/arm64 (and arm/v7); slim keeps it small.
  for (const stage of stages) t.is(stage.from, "node:${NODE_VERSION}-bookworm-slim");
});

test("the dependency stage builds the native I2C module and fails the build if it did not compile", (t) => {
  const deps = stages[0];
  const runs =
    deps?.steps
      .filter((s) => s.op === "RUN")
      .map((s) => s.args)
      .join("\n") ?? "";
  t.regex(runs, /apt-get install -y --no-install-recommends python3 make g\+\+/);
  t.regex(runs, /npm ci --omit=dev/);
  t.regex(runs, /node -e "require\('i2c-bus'\)"/);
  t.true("i2c-bus" in pkg.optionalDependencies);
  // npm 11 runs install scripts only for packages listed here: without it i2c-bus would not compile.
  t.true(pkg.allowScripts["i2c-bus"]);
  t.true(pkg.allowScripts["epoll"], "rpi-gpio's native dependency");
});

test("the final stage has no compiler, no dev dependencies and no npm, and runs as the non-root node user", (t) => {
  const steps = final?.steps ?? [];
  const text = steps.map((s) => `${s.op} ${s.args}`).join("\n");
  t.notRegex(text, /apt-get install|npm (ci|install)|g\+\+|python3/);
  t.regex(text, /COPY --from=deps \/app\/node_modules \.\/node_modules/);
  t.regex(text, /COPY --from=build \/app\/dist \.\/dist/, "the compiled build, not the sources through tsx");
  t.regex(text, /rm -rf \/usr\/local\/lib\/node_modules\/npm/);
  const users = steps.filter((s) => s.op === "USER");
  t.deepEqual(
    users.map((u) => u.args),
    ["node"],
  );
  // USER comes before the entry point, and nothing after it switches back.
  t.true(steps.findIndex((s) => s.op === "USER") < steps.findIndex((s) => s.op === "ENTRYPOINT"));
  t.is(steps.find((s) => s.op === "ENTRYPOINT")?.args, '["node", "bin/pipdu.js"]');
  t.is(steps.find((s) => s.op === "CMD")?.args, '["start"]');
  t.regex(text, /ENV NODE_ENV=production PIPDU_STATE_DIR=\/var\/lib\/pipdu/);
  t.regex(text, /VOLUME \["\/var\/lib\/pipdu"\]/);
});

test("what the agents need at run time is a production dependency, so --omit=dev keeps it", (t) => {
  for (const name of ["tsx", "mqtt", "aedes", "convict", "winston", "ws", "yaml"])
    t.truthy(pkg.dependencies[name], name);
  for (const name of Object.keys(pkg.devDependencies))
    t.falsy(pkg.dependencies[name], `${name} is both a dependency and a dev dependency`);
});

test(".dockerignore keeps tests, firmware, docs, secrets and local modules out of the image", (t) => {
  for (const entry of [".git", "node_modules", "test", "firmware", "docs", "bench", ".env", "state"])
    t.true(dockerignore.includes(entry), entry);
  for (const needed of ["bin", "cli", "config", "package.json", "package-lock.json", "tsconfig.json"])
    t.false(dockerignore.includes(needed), needed);
  t.true(dockerignore.includes("!docs/openapi.yaml"), "the gateway serves /api/openapi.yaml from the image");
});

test("the exposed ports are the broker's, the gateway's, the panel page's and PDUDaemon's", (t) => {
  t.is(final?.steps.find((s) => s.op === "EXPOSE")?.args, "1883 9001 8080 8081 16421");
});

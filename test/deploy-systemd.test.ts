// The Raspberry Pi install: systemd units (systemd-analyze verify where it exists, and their content
// either way) and the install script (bash -n, shellcheck where installed, a dry run).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import { schema } from "../config/schema.ts";
import { ROOT, tempDir } from "./helpers/system.ts";

const UNITS = ["pipdu-pdu", "pipdu-panel", "pipdu-gateway", "pipdu-broker"];
const has = (tool: string): boolean => spawnSync(tool, ["--version"]).error === undefined;

type Unit = Record<string, Record<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? "";
      unit[section] = {};
      continue;
    }
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!m) throw new Error(`not a unit line: ${line}`);
    ((unit[section] ??= {})[m[1] ?? ""] ??= []).push(m[2] ?? "");
  }
  return unit;
}
const read = (name: string): string =>
  fs.readFileSync(path.join(ROOT, "deploy/systemd", `${name}.service`), "utf8");
const units = Object.fromEntries(UNITS.map((name) => [name, parseUnit(read(name))]));

(has("systemd-analyze") ? test : test.skip)(
  "systemd-analyze verify accepts every unit without a warning",
  (t) => {
    const dir = tempDir(t);
    // Where Node is not at /usr/bin/node (CI images), point the copy at this Node so the ExecStart check is real.
    const node = fs.existsSync("/usr/bin/node") ? "/usr/bin/node" : process.execPath;
    for (const name of UNITS)
      fs.writeFileSync(path.join(dir, `${name}.service`), read(name).replaceAll("/usr/bin/node", node));
    const r = spawnSync(
      "systemd-analyze",
      ["verify", "--man=no", ...UNITS.map((n) => path.join(dir, `${n}.service`))],
      { encoding: "utf8" },
    );
    t.is(r.stderr.trim(), "");
    t.is(r.status, 0);
  },
);

test("each agent runs `pipdu <command>` as user pipdu, restarts on its own and logs to the journal", (t) => {
  const commands: Record<string, string> = {
    "pipdu-pdu": "pdu",
    "pipdu-panel": "panel",
    "pipdu-gateway": "gateway",
    "pipdu-broker": "broker",
  };
  for (const name of UNITS) {
    const service = units[name]?.["Service"] ?? {};
    t.deepEqual(
      service["ExecStart"],
      [`/usr/bin/node /opt/pipdu/bin/pipdu.js ${commands[name] ?? ""}`],
      name,
    );
    t.deepEqual(service["User"], ["pipdu"], name);
    t.deepEqual(service["Restart"], ["always"], name);
    t.deepEqual(service["StateDirectory"], ["pipdu"], name);
    t.deepEqual(service["SyslogIdentifier"], [name], name);
    t.deepEqual(
      service["EnvironmentFile"],
      ["/etc/pipdu/pipdu.env", `-/etc/pipdu/${commands[name] ?? ""}.env`],
      name,
    );
    t.deepEqual(service["NoNewPrivileges"], ["yes"], name);
    t.deepEqual(units[name]?.["Install"]?.["WantedBy"], ["multi-user.target"], name);
  }
});

test("only the pdu-agent and the panel reach I2C (and the panel GPIO); gateway and broker see no devices", (t) => {
  t.deepEqual(units["pipdu-pdu"]?.["Service"]?.["SupplementaryGroups"], ["i2c"]);
  t.deepEqual(units["pipdu-pdu"]?.["Service"]?.["DeviceAllow"], ["char-i2c rw"]);
  t.deepEqual(units["pipdu-panel"]?.["Service"]?.["SupplementaryGroups"], ["i2c gpio"]);
  t.deepEqual(units["pipdu-panel"]?.["Service"]?.["DeviceAllow"], ["char-i2c rw", "char-gpiochip rw"]);
  for (const name of ["pipdu-gateway", "pipdu-broker"]) {
    t.deepEqual(units[name]?.["Service"]?.["PrivateDevices"], ["yes"], name);
    t.is(units[name]?.["Service"]?.["SupplementaryGroups"], undefined, name);
  }
});

test("the agents start after whichever broker runs on the Pi; the embedded broker and Mosquitto exclude each other", (t) => {
  for (const name of ["pipdu-pdu", "pipdu-panel", "pipdu-gateway"]) {
    t.deepEqual(
      units[name]?.["Unit"]?.["After"],
      ["network-online.target mosquitto.service pipdu-broker.service"],
      name,
    );
  }
  t.deepEqual(units["pipdu-broker"]?.["Unit"]?.["Conflicts"], ["mosquitto.service"]);
});

test("the env examples set only names the configuration schema declares", (t) => {
  const known = new Set<string>();
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    if (typeof record["env"] === "string" && "doc" in record) known.add(record["env"]);
    Object.values(record).forEach(walk);
  };
  walk(schema);
  for (const file of ["pipdu.env.example", "panel.env.example", "gateway.env.example"]) {
    const names = [
      ...fs.readFileSync(path.join(ROOT, "deploy/env", file), "utf8").matchAll(/^([A-Z][A-Z0-9_]*)=/gm),
    ].map((m) => m[1] ?? "");
    t.true(names.length > 0, file);
    t.deepEqual(
      names.filter((n) => !known.has(n)),
      [],
      file,
    );
  }
});

test("install.sh parses, passes shellcheck where installed, and its dry run covers every step", (t) => {
  const script = path.join(ROOT, "deploy/install.sh");
  t.is(spawnSync("bash", ["-n", script]).status, 0);
  if (has("shellcheck")) {
    const r = spawnSync("shellcheck", [script], { encoding: "utf8" });
    t.is(r.status, 0, r.stdout);
  }
  const r = spawnSync(
    "bash",
    [script, "--dry-run", "--node=skip", "--broker=embedded", "--agents=pdu,gateway"],
    { encoding: "utf8" },
  );
  t.is(r.status, 0, r.stderr);
  for (const expected of [
    "useradd --system --user-group --home-dir /var/lib/pipdu --no-create-home --shell /usr/sbin/nologin pipdu",
    "usermod -a -G i2c,gpio pipdu",
    "npm ci --no-audit --no-fund && npm prune --omit=dev",
    "install -m 0644 " + path.join(ROOT, "deploy/systemd/pipdu-broker.service") + " /etc/systemd/system/",
    "systemctl enable pipdu-pdu",
    "systemctl enable pipdu-gateway",
  ]) {
    t.true(r.stdout.includes(expected), expected);
  }
  t.false(r.stdout.includes("pipdu-panel"), "--agents leaves the panel out");
  const bad = spawnSync("bash", [script, "--dry-run", "--broker=rabbit"], { encoding: "utf8" });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /--broker must be mosquitto, embedded or none/);
});

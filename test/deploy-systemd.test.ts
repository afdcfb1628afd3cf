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

const script = path.join(ROOT, "deploy/install.sh");
const dryRun = (args: string[]) =>
  spawnSync("bash", [script, "--dry-run", "--node=skip", ...args], { encoding: "utf8" });

test("install.sh parses, passes shellcheck where installed, and its dry run covers every step", (t) => {
  t.is(spawnSync("bash", ["-n", script]).status, 0);
  if (has("shellcheck")) {
    const r = spawnSync("shellcheck", [script], { encoding: "utf8" });
    t.is(r.status, 0, r.stdout);
  }
  const conf = tempDir(t);
  const r = dryRun([
    "--broker=embedded",
    "--agents=pdu,gateway",
    "--tarball=" + path.join(ROOT, "package.json"),
    `--conf-dir=${conf}`,
  ]);
  t.is(r.status, 0, r.stderr);
  for (const expected of [
    "useradd --system --user-group --home-dir /var/lib/pipdu --no-create-home --shell /usr/sbin/nologin pipdu",
    "usermod -a -G i2c,gpio pipdu",
    `tar -xzf ${path.join(ROOT, "package.json")} -C /opt/pipdu.next --strip-components=1`,
    "cd '/opt/pipdu.next' && npm install --omit=dev --no-audit --no-fund",
    "ln -sfn /opt/pipdu/bin/pipdu.js /usr/local/bin/pipdu",
    "install -m 0644 " + path.join(ROOT, "deploy/systemd/pipdu-broker.service") + " /etc/systemd/system/",
    "systemctl enable pipdu-pdu",
    "systemctl enable pipdu-gateway",
  ]) {
    t.true(r.stdout.includes(expected), expected);
  }
  t.false(r.stdout.includes("npm ci"), "a release tarball is installed as it is, never compiled");
  t.false(r.stdout.includes("pipdu-panel.service"), "--agents leaves the panel out");
  const bad = spawnSync("bash", [script, "--dry-run", "--broker=rabbit"], { encoding: "utf8" });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /--broker must be mosquitto, embedded or none/);
});

test("install.sh from a checkout packs a release first: npm ci then npm pack, then installs that tarball", (t) => {
  const r = dryRun([`--conf-dir=${tempDir(t)}`]);
  t.is(r.status, 0, r.stderr);
  t.regex(
    r.stdout,
    /\+ bash -c cd '.*' && npm ci --no-audit --no-fund && npm pack --pack-destination '(.*)'\n/,
  );
  const destination = /npm pack --pack-destination '(.*)'/.exec(r.stdout)?.[1] ?? "";
  t.true(r.stdout.includes(`tar -xzf ${destination}/pipdu-`), r.stdout);
});

test("a first install writes the panel driver, a gateway token and one broker user per part, with the ACL", (t) => {
  const conf = tempDir(t);
  const r = dryRun(["--panel=gpio", `--conf-dir=${conf}`]);
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  for (const expected of [
    `+ install -m 0640 -o root -g pipdu ${path.join(ROOT, "deploy/env/panel.env.example")} ${conf}/panel.env`,
    `+ set PIPDU_PANEL_DRIVER=gpio in ${conf}/panel.env`,
    `+ set PIPDU_GATEWAY_TOKEN in ${conf}/gateway.env to a new random secret`,
    `+ set PIPDU_MQTT_USERNAME=pipdu-agent in ${conf}/pdu.env`,
    `+ set PIPDU_MQTT_PASSWORD in ${conf}/pdu.env to a new random secret`,
    `+ set PIPDU_MQTT_USERNAME=pipdu-panel in ${conf}/panel.env`,
    `+ set PIPDU_MQTT_PASSWORD in ${conf}/panel.env to a new random secret`,
    `+ set PIPDU_MQTT_USERNAME=pipdu-gateway in ${conf}/gateway.env`,
    `+ set PIPDU_MQTT_PASSWORD in ${conf}/gateway.env to a new random secret`,
    `+ set HA_MQTT_PASSWORD in ${conf}/mqtt-clients.env to a new random secret`,
    `+ set READER_MQTT_PASSWORD in ${conf}/mqtt-clients.env to a new random secret`,
    `+ install -m 0640 -o root -g mosquitto ${path.join(ROOT, "deploy/mosquitto/pipdu.acl")} /etc/mosquitto/pipdu.acl`,
    "+ mosquitto_passwd -b /etc/mosquitto/passwd pipdu-agent ***",
    "+ mosquitto_passwd -b /etc/mosquitto/passwd pipdu-panel ***",
    "+ mosquitto_passwd -b /etc/mosquitto/passwd pipdu-gateway ***",
    "+ mosquitto_passwd -b /etc/mosquitto/passwd homeassistant ***",
    "+ mosquitto_passwd -b /etc/mosquitto/passwd pipdu-reader ***",
  ])
    t.true(lines.includes(expected), expected);
  t.is(dryRun(["--panel=lcd"]).status, 2);
});

test("a re-run keeps every password and the token, and the embedded broker gets the same users and ACL", (t) => {
  const conf = tempDir(t);
  const secrets: Record<string, string> = {
    "pdu.env": "PIPDU_MQTT_USERNAME=pipdu-agent\nPIPDU_MQTT_PASSWORD=agentsecret\n",
    "panel.env": "PIPDU_PANEL_DRIVER=i2c\nPIPDU_MQTT_USERNAME=pipdu-panel\nPIPDU_MQTT_PASSWORD=panelsecret\n",
    "gateway.env":
      "PIPDU_GATEWAY_TOKEN=tok\nPIPDU_MQTT_USERNAME=pipdu-gateway\nPIPDU_MQTT_PASSWORD=gwsecret\n",
    "mqtt-clients.env": "HA_MQTT_PASSWORD=hasecret\nREADER_MQTT_PASSWORD=readsecret\n",
    "pipdu.env": "PIPDU_MQTT_URL=mqtt://127.0.0.1:1883\n",
  };
  for (const [file, text] of Object.entries(secrets)) fs.writeFileSync(path.join(conf, file), text);
  const r = dryRun(["--broker=embedded", `--conf-dir=${conf}`]);
  t.is(r.status, 0, r.stderr);
  t.false(r.stdout.includes("new random secret"), r.stdout);
  for (const [file, name] of [
    ["gateway.env", "PIPDU_GATEWAY_TOKEN"],
    ["pdu.env", "PIPDU_MQTT_PASSWORD"],
    ["panel.env", "PIPDU_MQTT_PASSWORD"],
    ["gateway.env", "PIPDU_MQTT_PASSWORD"],
    ["mqtt-clients.env", "HA_MQTT_PASSWORD"],
    ["mqtt-clients.env", "READER_MQTT_PASSWORD"],
  ])
    t.true(r.stdout.includes(`+ keep ${name} in ${conf}/${file}\n`), `${file} ${name}`);
  t.false(
    /install .* \S+\/(pdu|panel|gateway|pipdu)\.env\n/.test(r.stdout),
    "existing env files are not replaced",
  );
  for (const user of ["pipdu-agent", "pipdu-panel", "pipdu-gateway", "homeassistant", "pipdu-reader"])
    t.true(r.stdout.includes(`+ pipdu passwd ${conf}/passwd ${user} <<< ***`), user);
  t.true(r.stdout.includes(`${path.join(ROOT, "deploy/mosquitto/pipdu.acl")} ${conf}/pipdu.acl`));
  t.true(r.stdout.includes(`+ set PIPDU_BROKER_ACL_FILE=${conf}/pipdu.acl in ${conf}/broker.env`));
  for (const secret of ["agentsecret", "panelsecret", "gwsecret", "hasecret", "readsecret", "tok\n"])
    t.false(r.stdout.includes(secret), "no secret is printed");
});

test("the installer writes a secret once: a placeholder or a commented line gets a new one, a set one is kept", (t) => {
  const dir = tempDir(t);
  const gateway = path.join(dir, "gateway.env");
  const pdu = path.join(dir, "pdu.env");
  fs.copyFileSync(path.join(ROOT, "deploy/env/gateway.env.example"), gateway);
  fs.writeFileSync(pdu, "PIPDU_MQTT_USERNAME=pipdu-agent\nPIPDU_MQTT_PASSWORD=change-me\n");
  // The installer's own helpers, sourced without running any step.
  const ensure = () =>
    spawnSync(
      "bash",
      [
        "-c",
        `INSTALL_SH_LIB=1; . "${script}"; ensure_secret "$1" PIPDU_GATEWAY_TOKEN; ensure_secret "$2" PIPDU_MQTT_PASSWORD`,
        "install.sh",
        gateway,
        pdu,
      ],
      { encoding: "utf8" },
    );
  const value = (file: string, name: string) =>
    [...fs.readFileSync(file, "utf8").matchAll(new RegExp(`^${name}=(.*)$`, "gm"))].map((m) => m[1]);

  const first = ensure();
  t.is(first.status, 0, first.stderr);
  const [token] = value(gateway, "PIPDU_GATEWAY_TOKEN");
  const [password] = value(pdu, "PIPDU_MQTT_PASSWORD");
  t.regex(token ?? "", /^[A-Za-z0-9]{20,}$/);
  t.regex(password ?? "", /^[A-Za-z0-9]{20,}$/);
  t.not(token, password);
  t.regex(fs.readFileSync(gateway, "utf8"), /^PIPDU_HTTP_PORT=8080$/m, "the rest of the file is kept");

  const again = ensure();
  t.is(again.status, 0, again.stderr);
  t.deepEqual(value(gateway, "PIPDU_GATEWAY_TOKEN"), [token], "a re-run keeps the token");
  t.deepEqual(value(pdu, "PIPDU_MQTT_PASSWORD"), [password], "a re-run keeps the password");
  t.regex(
    again.stdout,
    /\+ keep PIPDU_GATEWAY_TOKEN in .*gateway\.env\n\+ keep PIPDU_MQTT_PASSWORD in .*pdu\.env\n/,
  );
});

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { ConfigError, envName, loadConfig } from "../../config/load.ts";

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

function file(t: { teardown: (f: () => void) => void }, name: string, content: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-config-"));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  const f = path.join(d, name);
  fs.writeFileSync(f, content);
  return f;
}

test("defaults describe a standalone 16-outlet PDU", (t) => {
  const { settings } = loadConfig({ env: {} });
  t.is(settings.pdu.id, "pdu1");
  t.is(settings.pdu.outletCount, 16);
  t.is(settings.mqtt.url, "mqtt://127.0.0.1:1883");
  t.is(settings.broker.port, 1883);
  t.is(settings.telemetry.interval, 1);
  t.is(settings.hardware, "auto");
});

test("environment overrides a file, and the command line overrides both", (t) => {
  const config = file(t, "pipdu.yaml", "pdu:\n  id: fromfile\n  name: Rack A\nbroker:\n  port: 1884\n");
  const { settings } = loadConfig({
    env: { PIPDU_CONFIG: config, PIPDU_BROKER_PORT: "1885" },
    argv: ["--pdu.id", "fromargs"],
  });
  t.is(settings.pdu.id, "fromargs");
  t.is(settings.pdu.name, "Rack A");
  t.is(settings.broker.port, 1885);
});

test("JSON files work too, with outlet names", (t) => {
  const config = file(
    t,
    "pipdu.json",
    JSON.stringify({ outlets: [{ name: "Switch", protected: true }, { name: "Router" }] }),
  );
  const { settings } = loadConfig({ env: { PIPDU_CONFIG: config } });
  t.deepEqual(settings.outlets, [{ name: "Switch", protected: true }, { name: "Router" }]);
});

test("a wrong value is one line naming the key, the variable, the value and what is allowed", (t) => {
  t.deepEqual(
    problems(() => loadConfig({ env: { PIPDU_BROKER_PORT: "abc" } })),
    ['broker.port (PIPDU_BROKER_PORT) = "abc": must be a TCP port from 0 to 65535 (0 = any free port)'],
  );
  t.deepEqual(
    problems(() => loadConfig({ env: { PIPDU_HARDWARE: "gpio" } })),
    ['hardware (PIPDU_HARDWARE) = "gpio": must be one of auto, i2c, sim'],
  );
  t.deepEqual(
    problems(() => loadConfig({ env: { PIPDU_PDU_ID: "Rack 1" } })),
    ['pdu.id (PIPDU_PDU_ID) = "Rack 1": must be 1 to 64 of a-z, 0-9, _ and -'],
  );
  t.deepEqual(
    problems(() => loadConfig({ env: { PIPDU_PDU_OUTLET_COUNT: "17" } })),
    ["pdu.outletCount (PIPDU_PDU_OUTLET_COUNT) = 17: must be an integer from 1 to 16"],
  );
});

test("unknown keys in a file are refused by name", (t) => {
  const config = file(t, "pipdu.yaml", "pdu:\n  idd: x\n");
  t.deepEqual(
    problems(() => loadConfig({ env: { PIPDU_CONFIG: config } })),
    ["pdu.idd: unknown setting (check the spelling against the configuration table in the README)"],
  );
});

test("a missing or unreadable file is reported, not ignored", (t) => {
  t.deepEqual(
    problems(() => loadConfig({ env: { PIPDU_CONFIG: "/nonexistent/pipdu.yaml" } })),
    ['config: file "/nonexistent/pipdu.yaml" does not exist (set by PIPDU_CONFIG or --config)'],
  );
  const broken = file(t, "broken.json", "{ not json");
  t.regex(
    problems(() => loadConfig({ env: { PIPDU_CONFIG: broken } }))[0] ?? "",
    /^config: file ".*broken.json" cannot be read/,
  );
});

test("bad outlet settings name the outlet and the key", (t) => {
  const p = problems(() => loadConfig({ env: { PIPDU_OUTLETS: '[{"name":"ok"},{"nmae":"x"}]' } }));
  t.is(p.length, 1);
  t.regex(p[0] ?? "", /outlet 2 has unknown key "nmae"/);
});

test("secrets are masked in errors and in config print", (t) => {
  const { print } = loadConfig({ env: { PIPDU_MQTT_PASSWORD: "hunter2", PIPDU_MQTT_USERNAME: "pdu" } });
  t.false(print().includes("hunter2"));
  t.true(print().includes('"username": "pdu"'));
});

test("environment names are PIPDU_ plus the key path in upper snake case", (t) => {
  t.is(envName("broker.wsPort"), "PIPDU_BROKER_WS_PORT");
  t.is(envName("ha.discoveryPrefix"), "PIPDU_HA_DISCOVERY_PREFIX");
});

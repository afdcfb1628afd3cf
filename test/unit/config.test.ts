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
    ['config: file "/nonexistent/pipdu.yaml" does not exist (set by PIPDU_CONFIG)'],
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

test("a setting on the command line is any key path, with or without =", (t) => {
  const { settings } = loadConfig({
    env: {},
    argv: ["--safety.maxCurrent", "10", "--telemetry.deadband.power=2.5", "--panel.driver", "i2c"],
  });
  t.is(settings.safety.maxCurrent, 10);
  t.is(settings.telemetry.deadband.power, 2.5);
  t.is(settings.panel.driver, "i2c");
});

test("an unknown option is refused with the closest setting", (t) => {
  t.deepEqual(
    problems(() => loadConfig({ env: {}, argv: ["--brokr.port", "1"] })),
    [
      "--brokr.port: unknown option (did you mean --broker.port?); every setting is --key.path value, see pipdu config print",
    ],
  );
});

test("a value from the command line is reported under its flag, one from a file under the file", (t) => {
  t.deepEqual(
    problems(() => loadConfig({ env: { PIPDU_BROKER_PORT: "1" }, argv: ["--broker.port", "99999"] })),
    ["broker.port (--broker.port) = 99999: must be a TCP port from 0 to 65535 (0 = any free port)"],
  );
  const config = file(t, "pipdu.yaml", "telemetry:\n  interval: 0\n");
  t.deepEqual(
    problems(() => loadConfig({ env: { PIPDU_CONFIG: config } })),
    [`telemetry.interval (in ${config}) = 0: must be a number from 0.1 to 60`],
  );
});

test("unknown PIPDU_ variables come back as warnings with the likely variable", (t) => {
  const { warnings } = loadConfig({
    env: { PIPDU_BROKR_PORT: "1", PIPDU_PDU_ID: "x", PIPDU_RUNTIME: "dist", HOME: "/root" },
  });
  t.deepEqual(warnings, [
    "PIPDU_BROKR_PORT is not a setting and is ignored (did you mean PIPDU_BROKER_PORT?)",
  ]);
});

test("a password inside mqtt.url is masked in config print and in errors", (t) => {
  const { print } = loadConfig({ env: { PIPDU_MQTT_URL: "mqtts://pdu:hunter2@broker.lan:8883" } });
  t.false(print().includes("hunter2"));
  t.true(print().includes('"url": "mqtts://pdu:***@broker.lan:8883"'));
  const p = problems(() =>
    loadConfig({ env: { PIPDU_MQTT_URL: "mqtt://pdu:hunter2@broker.lan:1883", PIPDU_BROKER_PORT: "x" } }),
  );
  t.false(p.join("\n").includes("hunter2"));
  const bad = problems(() => loadConfig({ env: { PIPDU_MQTT_URL: "http://pdu:hunter2@broker.lan" } }));
  t.is(bad.length, 1);
  t.false(bad.join("\n").includes("hunter2"));
  t.true(bad.join("\n").includes("http://pdu:***@broker.lan"));
});

test("config print says whether a secret is set without showing it", (t) => {
  const unset = JSON.parse(loadConfig({ env: {} }).print()) as { gateway: { token: unknown } };
  t.is(unset.gateway.token, null);
  const set = JSON.parse(loadConfig({ env: { PIPDU_GATEWAY_TOKEN: "t0ken" } }).print()) as {
    gateway: { token: unknown };
  };
  t.is(set.gateway.token, "[Sensitive]");
});

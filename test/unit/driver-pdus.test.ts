// From configuration to driver-backed PDUs: ids, names, outlet counts and state directories per PDU, and a
// driver piPDU does not have reported by name while the others are built.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import { loadConfig, type Settings } from "../../config/load.ts";
import type { Logger } from "../../log/logger.ts";
import { driverPdusFromSettings } from "../../pdu-agent/drivers/driver-pdus.ts";

function setup(t: ExecutionContext, pdus: Record<string, unknown>, file?: object) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-drivers-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let config: string | null = null;
  if (file) {
    config = path.join(dir, "pdudaemon.conf");
    fs.writeFileSync(config, JSON.stringify(file));
  }
  const { settings } = loadConfig({ argv: [], env: {} });
  const s: Settings = { ...settings, stateDir: dir, pdudaemon: { ...settings.pdudaemon, config, pdus } };
  const lines: string[] = [];
  // Only what the driver code calls: errors are collected, the rest is quiet.
  const logger = {
    error: (message: string) => lines.push(message),
    warn: (message: string) => lines.push(message),
    info: () => undefined,
    debug: () => undefined,
    child: () => logger,
  } as unknown as Logger;
  return { settings: s, logger, lines, dir };
}

test("each entry becomes a PDU with its derived id, its hostname as name, its own state directory", async (t) => {
  const { settings, logger, dir } = setup(
    t,
    {},
    {
      pdus: {
        "PDU05.lab": { driver: "localcmdline", cmd_on: "true", outlets: 4, outlet_names: ["switch", "dut1"] },
        "10.0.0.7": { driver: "esphome-http", switch_ids: ["relay_1", "relay_2", "relay_3"] },
      },
    },
  );
  const pdus = await driverPdusFromSettings(settings, logger);
  t.teardown(() => Promise.all(pdus.map((p) => p.controller.close())));
  t.deepEqual(
    pdus.map((p) => [p.pduId, p.settings.pdu.name, p.settings.pdu.outletCount, p.controller.outletCount]),
    [
      ["pdu05-lab", "PDU05.lab", 4, 4],
      ["10-0-0-7", "10.0.0.7", 3, 3],
    ],
  );
  t.deepEqual(pdus[0]?.settings.outlets, [{ name: "switch" }, { name: "dut1" }]);
  t.is(pdus[0]?.settings.stateDir, path.join(dir, "drivers", "pdu05-lab"));
  t.is(pdus[0]?.settings.telemetry.interval, 5);
});

test("an unsupported driver and a bad entry are reported by hostname; the others are built", async (t) => {
  const { settings, logger, lines } = setup(
    t,
    { "own-box": { driver: "localcmdline", cmd_off: "true", outlets: 2 } },
    {
      pdus: {
        apc9210: { driver: "apc9210" },
        "esp-1": { driver: "esphome-http" },
        strip: { driver: "localcmdline", cmd_on: "true" },
      },
    },
  );
  const pdus = await driverPdusFromSettings(settings, logger);
  t.teardown(() => Promise.all(pdus.map((p) => p.controller.close())));
  t.deepEqual(
    pdus.map((p) => p.pduId),
    ["strip", "own-box"],
  );
  t.is(lines.length, 2);
  t.regex(
    lines[0] ?? "",
    /pdudaemon\.conf: PDU "apc9210" \(apc9210\): driver "apc9210" is not supported by piPDU; not started \(supported: localcmdline, snmpv1/,
  );
  t.is(lines[1], `${settings.pdudaemon.config ?? ""}: PDU "esp-1" (esphome-http): "switch_ids" is required`);
});

test("a driver PDU with this piPDU's own id is refused, so two agents never answer for one id", async (t) => {
  const { settings, logger, lines } = setup(t, { PDU1: { driver: "localcmdline", cmd_on: "true" } });
  t.deepEqual(await driverPdusFromSettings(settings, logger), []);
  t.deepEqual(lines, ['pdudaemon.pdus: PDU "PDU1": its id "pdu1" is this piPDU\'s own pdu.id; not started']);
});

test("a daemon.port other than piPDU's PDUDaemon port is pointed out, naming the setting to change", async (t) => {
  const { settings, logger, lines } = setup(t, {}, { daemon: { port: 16500, listener: "http" }, pdus: {} });
  t.deepEqual(await driverPdusFromSettings(settings, logger), []);
  t.is(lines.length, 1);
  t.regex(
    lines[0] ?? "",
    /pdudaemon\.conf: daemon\.port 16500 is not used; piPDU serves the PDUDaemon API \(HTTP and TCP\) on pdudaemon\.port 16421 \(PIPDU_PDUDAEMON_PORT\)$/,
  );
});

test("a driver, MIB object or SNMP protocol named like an Object property is refused by name, not looked up", async (t) => {
  const snmp = {
    driver: "snmpv3",
    username: "u",
    authpassphrase: "secret-pass",
    onsetting: 1,
    offsetting: 2,
  };
  const { settings, logger, lines } = setup(
    t,
    {},
    {
      pdus: {
        a: { driver: "toString" },
        b: { driver: "__proto__" },
        c: { ...snmp, mib: "PowerNet-MIB", controlpoint: "constructor" },
        d: { ...snmp, mib: "__proto__", controlpoint: "toString" },
        e: { ...snmp, oid: ".1.3.6.*", auth_protocol: "constructor" },
        f: { ...snmp, oid: ".1.3.6.*", privpassphrase: "p", priv_protocol: "hasOwnProperty" },
      },
    },
  );
  t.deepEqual(await driverPdusFromSettings(settings, logger), []);
  t.is(lines.length, 6);
  t.regex(
    lines[0] ?? "",
    /pdudaemon\.conf: PDU "a" \(toString\): driver "toString" is not supported by piPDU/,
  );
  t.regex(
    lines[1] ?? "",
    /pdudaemon\.conf: PDU "b" \(__proto__\): driver "__proto__" is not supported by piPDU/,
  );
  t.regex(
    lines[2] ?? "",
    /pdudaemon\.conf: PDU "c" \(snmpv3\): "PowerNet-MIB::constructor" is not a MIB object piPDU knows/,
  );
  t.regex(
    lines[3] ?? "",
    /pdudaemon\.conf: PDU "d" \(snmpv3\): "__proto__::toString" is not a MIB object piPDU knows/,
  );
  t.regex(
    lines[4] ?? "",
    /pdudaemon\.conf: PDU "e" \(snmpv3\): "auth_protocol" constructor is not one of usmNoAuthProtocol/,
  );
  t.regex(
    lines[5] ?? "",
    /pdudaemon\.conf: PDU "f" \(snmpv3\): "priv_protocol" hasOwnProperty is not one of usmNoPrivProtocol/,
  );
  t.false(lines.join("\n").includes("secret-pass"));
});

test("an alias whose PDU is neither in the configuration nor this piPDU is pointed out by name", async (t) => {
  const { settings, logger, lines } = setup(
    t,
    {},
    {
      pdus: { "PDU05.lab": { driver: "localcmdline", cmd_on: "true" } },
      aliases: {
        dut1: { hostname: "PDU05.lab", port: 1 },
        dut2: { hostname: "pdu1", port: 2 },
        dut3: { hostname: "pdu06.lab", port: 3 },
      },
    },
  );
  const pdus = await driverPdusFromSettings(settings, logger);
  t.teardown(() => Promise.all(pdus.map((p) => p.controller.close())));
  t.deepEqual(lines, [
    `${settings.pdudaemon.config ?? ""}: alias "dut3" names PDU "pdu06-lab", which is neither in its pdus nor this piPDU; requests by this alias fail unless a PDU "pdu06-lab" is on the bus`,
  ]);
});

test("an SNMP PDU whose onsetting equals its offsetting, or whose UDP port is out of range, is refused by name", async (t) => {
  const snmp = { driver: "snmpv1", community: "private", oid: ".1.3.6.1.4.1.318.1.1.4.4.2.1.3.*" };
  const { settings, logger, lines } = setup(
    t,
    {},
    {
      pdus: {
        same: { ...snmp, onsetting: 1, offsetting: "1" },
        "10.0.0.5:70000": { ...snmp, onsetting: 1, offsetting: 2 },
      },
    },
  );
  t.deepEqual(await driverPdusFromSettings(settings, logger), []);
  const file = settings.pdudaemon.config ?? "";
  t.deepEqual(lines, [
    `${file}: PDU "same" (snmpv1): "onsetting" and "offsetting" must differ, or no state could be read back`,
    `${file}: PDU "10.0.0.5:70000" (snmpv1): the port after the host must be 1 to 65535`,
  ]);
});

test("outlet_names are held to piPDU's own outlet-name rules: printable, at most 40 characters", async (t) => {
  const { settings, logger, lines } = setup(
    t,
    {},
    {
      pdus: {
        escape: { driver: "localcmdline", cmd_on: "true", outlet_names: ["ok", "bad\u001b[2J"] },
        long: { driver: "localcmdline", cmd_on: "true", outlet_names: ["x".repeat(41)] },
      },
    },
  );
  t.deepEqual(await driverPdusFromSettings(settings, logger), []);
  const file = settings.pdudaemon.config ?? "";
  t.deepEqual(lines, [
    `${file}: PDU "escape" (localcmdline): "outlet_names": outlet 2 name must be 1 to 40 printable characters`,
    `${file}: PDU "long" (localcmdline): "outlet_names": outlet 1 name must be 1 to 40 printable characters`,
  ]);
});

test("an snmpv3 PDU with a privacy pass phrase but no authentication one is refused, not run in clear text", async (t) => {
  const { settings, logger, lines } = setup(t, {
    clear: {
      driver: "snmpv3",
      username: "u",
      privpassphrase: "priv-s3cret",
      oid: ".1.3.6.1.4.1.318.1.1.4.4.2.1.3.*",
      onsetting: 1,
      offsetting: 2,
    },
  });
  t.deepEqual(await driverPdusFromSettings(settings, logger), []);
  t.deepEqual(lines, ['pdudaemon.pdus: PDU "clear" (snmpv3): "privpassphrase" needs an "authpassphrase"']);
});

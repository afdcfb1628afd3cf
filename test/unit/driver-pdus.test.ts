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
    /^PDU "apc9210" \(apc9210\): driver "apc9210" is not supported by piPDU; not started \(supported: localcmdline, snmpv1/,
  );
  t.is(lines[1], 'PDU "esp-1" (esphome-http): "switch_ids" is required');
});

test("a driver PDU with this piPDU's own id is refused, so two agents never answer for one id", async (t) => {
  const { settings, logger, lines } = setup(t, { PDU1: { driver: "localcmdline", cmd_on: "true" } });
  t.deepEqual(await driverPdusFromSettings(settings, logger), []);
  t.deepEqual(lines, ['PDU "PDU1": its id "pdu1" is this piPDU\'s own pdu.id; not started']);
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

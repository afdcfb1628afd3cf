// The PDUs behind drivers, from PIPDU_PDUDAEMON_CONFIG and `pdudaemon.pdus`: each becomes a controller plus its
// own settings (PDU id, name, outlet count, state directory), ready for a pdu-agent like any piPDU.
// A driver piPDU does not have, or an entry it cannot use, is reported by name and the others still run.
import path from "node:path";
import { validateOutlets } from "../../config/outlets.ts";
import { driverPduConfigs, type DriverPduConfig } from "../../config/pdudaemon-config.ts";
import type { Settings } from "../../config/settings.ts";
import type { Logger } from "../../log/logger.ts";
import type { OutletController } from "../hardware/outlet-controller.ts";
import { DriverController } from "./driver-controller.ts";
import { DriverOptions, ownEntry } from "./options.ts";
import { DRIVER_NAMES, DRIVERS } from "./registry.ts";

export interface DriverPdu {
  pduId: string;
  hostname: string;
  driver: string;
  controller: OutletController;
  settings: Settings;
}

/** Every driver-backed PDU the configuration declares that can run; problems are logged, one line each. */
export async function driverPdusFromSettings(settings: Settings, logger: Logger): Promise<DriverPdu[]> {
  const { pdus, problems, notes } = await driverPduConfigs(settings);
  const log = { component: "drivers" };
  for (const note of notes) logger.warn(note, log);
  for (const problem of problems) logger.error(problem, log);
  const out: DriverPdu[] = [];
  for (const pdu of pdus) {
    try {
      out.push(await driverPdu(pdu, settings, logger));
    } catch (err) {
      logger.error((err as Error).message, log);
    }
  }
  return out;
}

async function driverPdu(pdu: DriverPduConfig, base: Settings, logger: Logger): Promise<DriverPdu> {
  const options: DriverOptions = new DriverOptions(pdu);
  const entry = ownEntry(DRIVERS, pdu.driver);
  if (!entry)
    options.fail(
      `driver "${pdu.driver}" is not supported by piPDU; not started (supported: ${DRIVER_NAMES.join(", ")})`,
    );
  const outletCount = options.integer("outlets", entry.defaultOutlets(options), 1, 16);
  const pollInterval = options.number("poll_interval", Math.max(base.telemetry.interval, 5), 0.1, 3600);
  const settings: Settings = {
    ...base,
    stateDir: path.join(base.stateDir, "drivers", pdu.pduId),
    pdu: {
      id: pdu.pduId,
      name: pdu.hostname.replace(/[\u0000-\u001f\u007f]/g, "").slice(0, 64),
      outletCount,
    },
    outlets: outletNames(options, outletCount),
    telemetry: { ...base.telemetry, interval: pollInterval },
    // Many of these devices measure no current: "on but drawing nothing" would be reported on every outlet, so
    // that check is off. Current through an off outlet and the overload budget still count where it is measured.
    safety: { ...base.safety, checkWindow: Number.POSITIVE_INFINITY },
  };
  const childLogger = logger.child({ pdu: pdu.pduId });
  const io = await entry.create({ options, outletCount, settings, logger: childLogger });
  const controller = new DriverController(io, {
    driver: pdu.driver,
    address: pdu.hostname,
    outletCount,
    retries: pdu.retries,
    retryDelay: pdu.retryDelay,
    stateFile: path.join(settings.stateDir, "outlets.json"),
  });
  return { pduId: pdu.pduId, hostname: pdu.hostname, driver: pdu.driver, controller, settings };
}

function outletNames(options: DriverOptions, count: number): Settings["outlets"] {
  const names = options.stringList("outlet_names");
  if (names === null) return [];
  if (names.length > count) options.fail(`"outlet_names" lists ${names.length} names for ${count} outlets`);
  const outlets = names.map((name) => ({ name }));
  // The same rules as piPDU's own outlet names: they reach the panel's LCD, the web page and Home Assistant.
  try {
    validateOutlets(outlets);
  } catch (err) {
    options.fail(`"outlet_names": ${(err as Error).message}`);
  }
  return outlets;
}

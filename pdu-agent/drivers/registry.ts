// Driver name (PDUDaemon's `driver`) → how to build the device side. Each driver module is loaded only when a
// PDU uses it, so a Pi without SNMP PDUs never loads net-snmp.
import type { Settings } from "../../config/settings.ts";
import type { Logger } from "../../log/logger.ts";
import type { DeviceIo } from "./driver-controller.ts";
import type { DriverOptions } from "./options.ts";

export interface DriverContext {
  options: DriverOptions;
  outletCount: number;
  settings: Settings;
  logger: Logger;
}

export interface DriverEntry {
  /** Outlets when the entry has no `outlets` key (PDUDaemon does not need to know). */
  defaultOutlets: (options: DriverOptions) => number;
  create: (context: DriverContext) => Promise<DeviceIo>;
}

const EIGHT = (): number => 8;
const tasmotaHttp = (ports: number | null): DriverEntry => ({
  defaultOutlets: (o) => ports ?? o.integer("port_count", 1, 1, 16),
  create: async ({ options, settings }) =>
    new (await import("./tasmota-http.ts")).TasmotaHttp(options, settings.mains),
});

export const DRIVERS: Readonly<Record<string, DriverEntry>> = {
  localcmdline: {
    defaultOutlets: EIGHT,
    create: async ({ options }) => new (await import("./localcmdline.ts")).LocalCmdline(options),
  },
  snmpv1: {
    defaultOutlets: EIGHT,
    create: async ({ options, outletCount }) =>
      new (await import("./snmp.ts")).Snmp(options, "snmpv1", outletCount),
  },
  snmpv3: {
    defaultOutlets: EIGHT,
    create: async ({ options, outletCount }) =>
      new (await import("./snmp.ts")).Snmp(options, "snmpv3", outletCount),
  },
  modbustcp: {
    defaultOutlets: EIGHT,
    create: async ({ options, outletCount }) =>
      new (await import("./modbustcp.ts")).ModbusTcp(options, outletCount),
  },
  tasmota: tasmotaHttp(null),
  sonoff_s20_tasmota: tasmotaHttp(1),
  brennenstuhl_wspl01_tasmota: tasmotaHttp(2),
  "tasmota-mqtt": {
    defaultOutlets: (o) => o.integer("port_count", 1, 1, 16),
    create: async ({ options, settings, logger, outletCount }) =>
      new (await import("./tasmota-mqtt.ts")).TasmotaMqtt(options, settings, logger, outletCount),
  },
  shelly_gen2: {
    defaultOutlets: () => 1,
    create: async ({ options, settings, outletCount }) =>
      new (await import("./shelly-gen2.ts")).ShellyGen2(options, settings.mains, outletCount),
  },
  "esphome-http": {
    defaultOutlets: (o) => o.stringList("switch_ids")?.length ?? o.fail('"switch_ids" is required'),
    create: async ({ options }) => new (await import("./esphome-http.ts")).EsphomeHttp(options),
  },
};

export const DRIVER_NAMES = Object.keys(DRIVERS);

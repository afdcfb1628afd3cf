// The simulated PDU as the agent sees it: SimFirmware on a SimBus behind the real register driver.
// Relay states are kept in the state directory, as the real firmware keeps its relays while the Pi's agent
// restarts or dies: only the relay mask, written in place when it changes (in the kernel before the switch
// is answered, so a killed agent never loses a switch it reported) and synced to disk, coalesced, like the
// firmware's EEPROM a second later; never on the event loop (lib/durable-file.ts). Read once, at start-up.
import path from "node:path";
import type { OutletConfig, SimLoad } from "../../../config/outlets.ts";
import { DEFAULT_I2C_ADDRESS } from "../../../protocol/register-map.ts";
import { readJsonSync } from "../../../lib/atomic-file.ts";
import { InPlaceRecord } from "../../../lib/durable-file.ts";
import { RegisterClient } from "../register-client.ts";
import { RegisterOutletController } from "../register-outlet-controller.ts";
import { DEFAULT_HANDLER_US, SimBus } from "./sim-bus.ts";
import { SimFirmware } from "./sim-firmware.ts";

/** A plausible small rack, so telemetry looks real out of the box. */
export const DEFAULT_LOADS: readonly SimLoad[] = [
  { watts: 24, noise: 1, inrush: 30 }, // switch
  { watts: 11, noise: 0.5, inrush: 15 }, // router
  { watts: 185, noise: 12, inrush: 400 }, // server
  { watts: 160, noise: 10, inrush: 380 },
  { watts: 95, noise: 6, inrush: 250 }, // NAS
  { watts: 7, noise: 0.5, inrush: 10 }, // Pi
  { watts: 45, noise: 3, inrush: 90 },
  { watts: 60, noise: 4, inrush: 120 },
  { watts: 4, noise: 0.3, inrush: 5 },
  { watts: 130, noise: 8, inrush: 300 },
  { watts: 18, noise: 1, inrush: 20 },
  { watts: 250, noise: 15, inrush: 500 },
  { watts: 35, noise: 2, inrush: 60 },
  { watts: 8, noise: 0.5, inrush: 10 },
  { watts: 75, noise: 5, inrush: 150 },
  { watts: 0, noise: 0, inrush: 0 }, // spare
];

export interface SimulatedPduOptions {
  stateDir: string | null;
  outletCount: number;
  outlets: OutletConfig[];
  voltage: number;
  powerFactor: number;
  address?: number;
  /** Share of transactions that fail, to exercise the link's retries. */
  faultRate?: number;
  /** I2C clock whose bus time each transaction takes (0 or absent: none). */
  busClockHz?: number;
  now?: () => number;
  random?: () => number;
}

export interface SimulatedPdu {
  controller: RegisterOutletController;
  bus: SimBus;
  firmware: SimFirmware;
  /** Puts every relay change so far on disk and closes the file (at once without a state directory). */
  flush(): Promise<void>;
}

export function createSimulatedPdu(options: SimulatedPduOptions): SimulatedPdu {
  const address = options.address ?? DEFAULT_I2C_ADDRESS;
  const file = options.stateDir === null ? null : path.join(options.stateDir, "sim-relays.json");
  const loads = Array.from({ length: options.outletCount }, (_, i) => {
    const base = DEFAULT_LOADS[i] ?? { watts: 50, noise: 3, inrush: 100 };
    return { ...base, ...options.outlets[i]?.load };
  });
  // As the firmware's EEPROM: synced a second after the last change (kLastMaskDebounceMs).
  const record = file === null ? null : new InPlaceRecord(file, { size: 32, syncDelayMs: 1000 });
  const firmware = new SimFirmware({
    address,
    outletCount: options.outletCount,
    loads,
    initialRelays: file === null ? 0 : readMask(file),
    voltage: options.voltage,
    powerFactor: options.powerFactor,
    ...(options.now ? { now: options.now } : {}),
    ...(options.random ? { random: options.random } : {}),
    onRelayChange: (mask) => record?.put(JSON.stringify({ relays: mask })),
  });
  const bus = new SimBus(options.random);
  bus.attach(firmware);
  bus.faultRate = options.faultRate ?? 0;
  if ((options.busClockHz ?? 0) > 0)
    bus.timing = { clockHz: options.busClockHz ?? 0, handlerUs: DEFAULT_HANDLER_US };
  const client = new RegisterClient(bus, address);
  const flush = (): Promise<void> => record?.close() ?? Promise.resolve();
  const controller = new RegisterOutletController(client, "simulator", async () => {
    await bus.close();
    await flush();
  });
  return { controller, bus, firmware, flush };
}

function readMask(file: string): number {
  try {
    const data = readJsonSync(file) as { relays?: unknown } | null;
    return typeof data?.relays === "number" ? data.relays : 0;
  } catch {
    return 0;
  }
}

// The one place that decides which hardware the agent talks to. Features never ask.
import type { Settings } from "../../config/load.ts";
import type { Logger } from "../../log/logger.ts";
import type { I2cBus } from "../../lib/i2c-bus.ts";
import type { OutletController } from "./outlet-controller.ts";
import { RegisterClient } from "./register-client.ts";
import { RegisterOutletController } from "./register-outlet-controller.ts";
import { createSimulatedPdu } from "./sim/simulated-pdu.ts";

export async function createController(settings: Settings, logger: Logger): Promise<OutletController> {
  const mode = settings.hardware;
  if (mode !== "sim") {
    const real = await openMega(settings, logger, mode === "i2c");
    if (real) return real;
  }
  logger.info(`simulated PDU with ${settings.pdu.outletCount} outlets (state in ${settings.stateDir})`, {
    component: "hardware",
  });
  return createSimulatedPdu({
    stateDir: settings.stateDir,
    outletCount: settings.pdu.outletCount,
    outlets: settings.outlets,
    voltage: settings.mains.voltage,
    powerFactor: settings.mains.powerFactor,
    address: settings.i2c.address,
    faultRate: settings.sim.faultRate,
    busClockHz: settings.sim.busClock,
  }).controller;
}

/** The Mega on /dev/i2c-N. With required=false (auto), any failure means "no hardware here". */
async function openMega(
  settings: Settings,
  logger: Logger,
  required: boolean,
): Promise<OutletController | null> {
  const { bus: busNumber, address } = settings.i2c;
  let bus: I2cBus | null = null;
  try {
    // Loaded only here, so the native module is needed only where there is an I2C bus.
    const native = await import("../../lib/i2c-bus-native.ts");
    bus = await native.openNativeI2cBus(busNumber);
    const controller = new RegisterOutletController(
      new RegisterClient(bus, address),
      "arduino-mega",
      () => bus?.close() ?? Promise.resolve(),
    );
    const info = await controller.describe();
    logger.info(
      `piPDU firmware ${info.firmwareVersion} on /dev/i2c-${busNumber} at 0x${address.toString(16)}`,
      { component: "hardware" },
    );
    return controller;
  } catch (err) {
    await bus?.close().catch(() => undefined);
    const message = `no piPDU firmware on /dev/i2c-${busNumber} at 0x${address.toString(16)}: ${(err as Error).message}`;
    if (required) throw new Error(message);
    logger.info(`${message}; using the simulator (hardware=auto)`, { component: "hardware" });
    return null;
  }
}

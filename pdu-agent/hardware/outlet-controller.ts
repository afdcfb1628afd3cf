// What the pdu-agent needs from the hardware. One implementation talks the register protocol over any
// I2cBus (the Mega, the host-built firmware, the simulator); features never ask which one it is.
import type { LinkCounters } from "./register-client.ts";

/** What the firmware does with an outlet after a power-on reset (kept in its EEPROM). */
export type ColdStartPolicy = "off" | "on" | "last";
export const COLD_START_POLICIES: readonly ColdStartPolicy[] = ["off", "on", "last"];

export interface HardwareInfo {
  /** "driver": a network or command-line PDU behind one of pdu-agent/drivers/. */
  kind: "arduino-mega" | "simulator" | "firmware-bridge" | "driver";
  firmwareVersion: string;
  protocolVersion: number;
  outletCount: number;
  resetCause: string;
}

export class HardwareError extends Error {
  constructor(
    readonly code: "link" | "unverified" | "not_pipdu",
    message: string,
  ) {
    super(message);
    this.name = "HardwareError";
  }
}

export interface OutletController {
  readonly outletCount: number;
  describe(): Promise<HardwareInfo>;
  /** Relay states as the firmware reports them, index 0 = outlet 1. */
  readRelays(): Promise<boolean[]>;
  /** Switch one outlet and verify by reading back; resolves with the states read back. */
  setRelay(outlet: number, on: boolean): Promise<boolean[]>;
  /** RMS current per outlet in amperes. */
  readCurrents(): Promise<number[]>;
  /** Cold-start policy per outlet, index 0 = outlet 1. Absent where the hardware keeps none. */
  readColdPolicies?(): Promise<ColdStartPolicy[]>;
  /** Outlets the firmware will still switch on by itself (cold-start delays running), index 0 = outlet 1. */
  readColdStartPending?(): Promise<boolean[]>;
  /** Set one outlet's cold-start policy, save it to EEPROM, verify by reading back; resolves with all policies. */
  setColdPolicy?(outlet: number, policy: ColdStartPolicy): Promise<ColdStartPolicy[]>;
  counters(): LinkCounters;
  close(): Promise<void>;
}

// Payload shapes and their text formats for everything the pdu-agent publishes.
import type { Action, CommandError, Transaction } from "./commands.ts";
import type { PduAction } from "./pdu-commands.ts";

export type OutletState = "ON" | "OFF";
export const ONLINE = "online";
export const OFFLINE = "offline";

export function formatState(on: boolean): OutletState {
  return on ? "ON" : "OFF";
}
export function formatPower(watts: number): string {
  return watts.toFixed(1);
}
export function formatCurrent(amperes: number): string {
  return amperes.toFixed(3);
}
export function formatEnergy(kwh: number): string {
  return kwh.toFixed(4);
}

export interface ResultPayload {
  outlet: number | null;
  command: Action | PduAction | "power_on_behavior" | null;
  transaction?: Transaction;
  status: "ok" | "error";
  error?: CommandError;
  /** The outlet's state after the command (also after a failed one, when it is known). */
  state?: OutletState;
  /** Who sent the command: `rest <ip>`, `panel <id>`, `mqtt <client id>`, `shedding`, … */
  source?: string;
  /** PDU-wide commands: each outlet's state afterwards, the outlets that failed and why, the actions cancelled. */
  outlets?: Record<string, OutletState>;
  errors?: Record<string, CommandError>;
  /** PDU-wide commands: outlets (or, for cancel, pending ids) left alone on purpose, and why; the command is still ok. */
  skipped?: Record<string, CommandError>;
  cancelled?: number[];
  /** power_on_behavior commands: the outlet's cold-start policy afterwards. */
  power_on_behavior?: "off" | "on" | "last";
}

export interface OutletReading {
  outlet: number;
  name: string;
  state: OutletState;
  power: number;
  current: number;
  energy: number;
}

export interface TelemetryPayload {
  pdu: string;
  time: string;
  outlets: OutletReading[];
  totals: { power: number; current: number; energy: number; outletsOn: number };
}

export interface InfoPayload {
  pdu: string;
  name: string;
  outlets: { number: number; name: string; protected: boolean }[];
  firmware: { version: string; hardware: string };
  agent: { version: string };
  mains: {
    voltage: number;
    voltageSource: "configured" | "measured";
    powerFactor: number;
    frequency: number;
  };
  limits: { maxDelay: number; defaultCycleDelay: number; maxPayloadBytes: number; maxCurrent: number };
}

export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

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

export type OutletFault = "none" | "dead_load" | "welded_relay";
export type PowerOnBehavior = "off" | "on" | "last";

/** `<base>/<pdu>/diagnostics`: link error counters and the agent's start time. */
export interface DiagnosticsPayload {
  linkErrors?: number;
  linkFailures?: number;
  startedAt?: string;
}

/** `<base>/<pdu>/alarm`: the overload alarm; only `active` while there is none. */
export interface OverloadAlarmPayload {
  active: boolean;
  current?: number;
  limit?: number;
  since?: number | null;
  outlets?: number[];
  shed?: number[];
}

/** One entry of `<base>/<pdu>/pending`: a delayed command or a staggered cold start. */
export interface PendingActionPayload {
  id: number;
  outlet: number;
  action: "on" | "off" | "toggle" | "cycle";
  /** When it will run (ms since the epoch); null when the firmware decides (cold start). */
  dueAt: number | null;
  source?: "command" | "cold_start";
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

// The JSON snapshots the agent publishes: telemetry (every poll) and info (retained, on connect).
import type { Settings } from "../config/settings.ts";
import { MAX_PAYLOAD_BYTES } from "../protocol/commands.ts";
import { formatState, round, type InfoPayload, type TelemetryPayload } from "../protocol/payloads.ts";
import type { HardwareInfo } from "./hardware/outlet-controller.ts";

export const AGENT_VERSION = "0.1.0";

export function outletName(settings: Settings, n: number): string {
  return settings.outlets[n - 1]?.name ?? `Outlet ${n}`;
}

export function buildTelemetry(
  settings: Settings,
  now: number,
  readings: {
    states: readonly boolean[];
    currents: readonly number[];
    powers: readonly number[];
    energy: readonly number[];
  },
): TelemetryPayload {
  const { states, currents, powers, energy } = readings;
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    pdu: settings.pdu.id,
    time: new Date(now).toISOString(),
    outlets: states.map((on, i) => ({
      outlet: i + 1,
      name: outletName(settings, i + 1),
      state: formatState(on),
      power: round(powers[i] ?? 0, 1),
      current: round(currents[i] ?? 0, 3),
      energy: round(energy[i] ?? 0, 4),
    })),
    totals: {
      power: round(sum(powers), 1),
      current: round(sum(currents), 3),
      energy: round(sum(energy), 4),
      outletsOn: states.filter(Boolean).length,
    },
  };
}

export function buildInfo(
  settings: Settings,
  outletCount: number,
  hardware: HardwareInfo | null,
): InfoPayload {
  const { mains, commands } = settings;
  return {
    pdu: settings.pdu.id,
    name: settings.pdu.name,
    outlets: Array.from({ length: outletCount }, (_, i) => ({
      number: i + 1,
      name: outletName(settings, i + 1),
      protected: settings.outlets[i]?.protected === true,
    })),
    firmware: { version: hardware?.firmwareVersion ?? "unknown", hardware: hardware?.kind ?? "unknown" },
    agent: { version: AGENT_VERSION },
    mains: {
      voltage: mains.voltage,
      voltageSource: "configured",
      powerFactor: mains.powerFactor,
      frequency: mains.frequency,
    },
    limits: {
      maxDelay: commands.maxDelay,
      defaultCycleDelay: commands.defaultCycleDelay,
      maxPayloadBytes: MAX_PAYLOAD_BYTES,
      maxCurrent: settings.safety.maxCurrent,
    },
  };
}

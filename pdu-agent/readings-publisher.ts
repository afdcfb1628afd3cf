// Readings publication: each per-outlet value that moved beyond its deadband or was not sent for
// telemetry.maxAge, the PDU totals (`total/*`) the same way, and the telemetry snapshot every poll. A state
// changed by a command goes out at once, not at the next poll. Everything is read from the state store.
import type { Settings } from "../config/settings.ts";
import {
  formatCurrent,
  formatEnergy,
  formatPower,
  formatState,
  type TelemetryPayload,
} from "../protocol/payloads.ts";
import type { OutletMetric, TotalMetric } from "../protocol/topics.ts";
import { ChangeFilter } from "./change-filter.ts";
import type { ErrorSink } from "./error-sink.ts";
import type { Feature } from "./feature.ts";
import type { OutletStateStore, StateChange } from "./outlet-state.ts";
import type { Publisher } from "./publisher.ts";
import { buildTelemetry } from "./snapshot.ts";

export interface Readings {
  states: readonly boolean[];
  currents: readonly number[];
  powers: readonly number[];
  /** Energy as saved: what a restart would come back with. */
  energy: readonly number[];
}

export interface ReadingsDeps {
  settings: Settings;
  store: OutletStateStore;
  publisher: Publisher;
  errors: ErrorSink;
  /** Energy counters as saved. */
  energy: () => readonly number[];
  isOnline: () => boolean;
}

export function powersOf(settings: Settings, currents: readonly number[]): number[] {
  const { voltage, powerFactor } = settings.mains;
  return currents.map((a) => a * voltage * powerFactor);
}

export class ReadingsPublisher implements Feature {
  readonly name = "readings";
  private readonly filter: ChangeFilter;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly deps: ReadingsDeps) {
    this.filter = new ChangeFilter(deps.settings.telemetry.maxAge * 1000);
  }

  start(): Promise<void> {
    this.unsubscribe = this.deps.store.subscribe((change) => this.changed(change));
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.unsubscribe?.();
    return Promise.resolve();
  }

  /** After a (re)connect: everything goes out again. */
  announce(): Promise<void> {
    this.filter.reset();
    return this.publish(Date.now());
  }

  readings(): Readings {
    const { store, settings } = this.deps;
    return {
      states: store.states(),
      currents: store.currents(),
      powers: powersOf(settings, store.currents()),
      energy: this.deps.energy(),
    };
  }

  telemetry(now: number): TelemetryPayload {
    return buildTelemetry(this.deps.settings, now, this.readings());
  }

  private changed(change: StateChange): void {
    if (!this.deps.isOnline()) return;
    const done = (p: Promise<unknown>): void => {
      p.catch((err: unknown) => this.deps.errors.report("readings publication", err));
    };
    if (change.kind === "switched") done(this.publishStates(change.outlets, change.now));
    else if (change.kind === "polled") done(this.publish(change.now));
  }

  private publishStates(outlets: number[], now: number): Promise<unknown> {
    const { store, publisher } = this.deps;
    return Promise.all(
      outlets.map((n) => {
        const value = formatState(store.isOn(n));
        return this.filter.offer(`${n}/state`, value, 0, now)
          ? publisher.publish(publisher.topics.outlet(publisher.pduId, n, "state"), value, true)
          : Promise.resolve();
      }),
    );
  }

  private async publish(now: number): Promise<void> {
    if (!this.deps.isOnline()) return;
    const { publisher, settings } = this.deps;
    const { deadband } = settings.telemetry;
    const readings = this.readings();
    const { states, currents, powers, energy } = readings;
    const publishes: Promise<unknown>[] = [];
    for (let i = 0; i < states.length; i++) {
      const n = i + 1;
      const state = formatState(states[i] ?? false);
      const values: [OutletMetric, number | string, number, string][] = [
        ["state", state, 0, state],
        ["power", powers[i] ?? 0, deadband.power, formatPower(powers[i] ?? 0)],
        ["current", currents[i] ?? 0, deadband.current, formatCurrent(currents[i] ?? 0)],
        ["energy", energy[i] ?? 0, deadband.energy, formatEnergy(energy[i] ?? 0)],
      ];
      for (const [metric, raw, band, text] of values) {
        if (this.filter.offer(`${n}/${metric}`, raw, band, now))
          publishes.push(publisher.publish(publisher.topics.outlet(publisher.pduId, n, metric), text, true));
      }
    }
    const telemetry = buildTelemetry(settings, now, readings);
    const { totals } = telemetry;
    const sums: [TotalMetric, number, number, string][] = [
      ["power", totals.power, deadband.power, formatPower(totals.power)],
      ["current", totals.current, deadband.current, formatCurrent(totals.current)],
      ["energy", totals.energy, deadband.energy, formatEnergy(totals.energy)],
    ];
    for (const [metric, value, band, text] of sums) {
      if (this.filter.offer(`total/${metric}`, value, band, now))
        publishes.push(publisher.publish(publisher.topics.total(publisher.pduId, metric), text, true));
    }
    publishes.push(publisher.json(publisher.topics.telemetry(publisher.pduId), telemetry, false, 0));
    await Promise.all(publishes);
  }
}

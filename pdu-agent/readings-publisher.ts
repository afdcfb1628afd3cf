// Which per-outlet values to publish after a poll: each one that moved beyond its deadband or was not
// sent for telemetry.maxAge, plus the telemetry snapshot every poll.
import type { Settings } from "../config/settings.ts";
import { formatCurrent, formatEnergy, formatPower, formatState } from "../protocol/payloads.ts";
import type { OutletMetric } from "../protocol/topics.ts";
import { ChangeFilter } from "./change-filter.ts";
import type { MqttBridge } from "./mqtt-bridge.ts";
import { buildTelemetry } from "./snapshot.ts";

export interface Readings {
  states: readonly boolean[];
  currents: readonly number[];
  powers: readonly number[];
  /** Energy as saved: what a restart would come back with. */
  energy: readonly number[];
}

export class ReadingsPublisher {
  private readonly filter: ChangeFilter;

  constructor(private readonly settings: Settings) {
    this.filter = new ChangeFilter(settings.telemetry.maxAge * 1000);
  }

  /** After a (re)connect: everything goes out again. */
  reset(): void {
    this.filter.reset();
  }

  /** A state changed by a command: published at once, not at the next poll. */
  publishStates(bridge: MqttBridge, states: readonly boolean[], now: number): void {
    states.forEach((on, i) => {
      const value = formatState(on);
      if (this.filter.offer(`${i + 1}/state`, value, 0, now))
        void bridge.publishOutlet(i + 1, "state", value);
    });
  }

  async publish(bridge: MqttBridge, readings: Readings, now: number): Promise<void> {
    const { deadband } = this.settings.telemetry;
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
          publishes.push(bridge.publishOutlet(n, metric, text));
      }
    }
    publishes.push(bridge.publishTelemetry(buildTelemetry(this.settings, now, readings)));
    await Promise.all(publishes);
  }
}

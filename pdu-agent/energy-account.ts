// Energy per outlet as the agent publishes it: integrated from power readings, saved atomically, and
// published only as saved, so no crash can make a published counter go back (Home Assistant would read
// that as a meter reset).
import type { Logger } from "../log/logger.ts";
import { EnergyMeter } from "./energy-meter.ts";
import { EnergyStore } from "./energy-store.ts";

export class EnergyAccount {
  private readonly store: EnergyStore;
  private meter: EnergyMeter | null = null;
  private savedKwh: number[] = [];

  constructor(
    stateDir: string,
    pduId: string,
    private readonly logger: Logger,
  ) {
    this.store = new EnergyStore(stateDir, pduId);
  }

  /** Restore the counters; readings further apart than maxGapMs are not integrated. */
  open(outletCount: number, maxGapMs: number): void {
    this.savedKwh = this.store.load(outletCount);
    this.meter = new EnergyMeter(this.savedKwh, maxGapMs);
  }

  add(now: number, watts: readonly number[]): void {
    this.meter?.add(now, watts);
  }

  /** What the counters say as far as the disk knows (at most energy.saveInterval behind the meter). */
  saved(): number[] {
    return (this.meter?.values() ?? []).map((v, i) => Math.min(v, this.savedKwh[i] ?? 0));
  }

  save(): void {
    if (!this.meter) return;
    try {
      const values = this.meter.values();
      this.store.save(values);
      this.savedKwh = values;
    } catch (err) {
      this.logger.error(`energy counters not saved: ${(err as Error).message}`, { component: "agent" });
    }
  }
}

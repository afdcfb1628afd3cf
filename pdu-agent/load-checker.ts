// Relay and load checks: an outlet switched on that shows no current within a window is a dead load (or a
// relay that did not close); one switched off that still draws current has a welded relay. Pure logic:
// the faults themselves live in the outlet state store and come in as an argument.
import type { OutletFault } from "./outlet-state.ts";

export type { OutletFault };

export class LoadChecker {
  private readonly switchedAt: (number | null)[];

  constructor(
    outletCount: number,
    private readonly windowMs: number,
    /** Amperes that count as "drawing", per outlet (index 0 = outlet 1). */
    private readonly thresholds: readonly number[],
  ) {
    this.switchedAt = new Array<number | null>(outletCount).fill(null);
  }

  /** The outlet was switched: its check starts over (its fault is cleared by the caller). */
  switched(outlet: number, now: number): void {
    this.switchedAt[outlet - 1] = now;
  }

  /**
   * Feed one poll with raw sensor currents (not zeroed for off outlets) and the faults as they stand.
   * Returns the outlets whose fault changed, with the new fault.
   */
  check(
    now: number,
    rawCurrents: readonly number[],
    states: readonly boolean[],
    faults: readonly OutletFault[],
  ): [outlet: number, fault: OutletFault][] {
    const changes: [number, OutletFault][] = [];
    for (let i = 0; i < this.switchedAt.length; i++) {
      const amps = rawCurrents[i] ?? 0;
      const threshold = this.thresholds[i] ?? 0.01;
      const was: OutletFault = faults[i] ?? "none";
      let fault: OutletFault = was;
      if (!states[i]) fault = amps >= threshold ? "welded_relay" : "none";
      else if (amps >= threshold) fault = "none";
      else if (was !== "dead_load") {
        const since = this.switchedAt[i];
        if (since !== null && since !== undefined && now - since >= this.windowMs) fault = "dead_load";
      }
      if (fault !== was) changes.push([i + 1, fault]);
    }
    return changes;
  }
}

// Relay and load checks: an outlet switched on that shows no current within a window is a dead load (or a
// relay that did not close); one switched off that still draws current has a welded relay. Pure logic.

export type OutletFault = "none" | "dead_load" | "welded_relay";

export class LoadChecker {
  private readonly switchedAt: (number | null)[];
  private readonly faults: OutletFault[];

  constructor(
    outletCount: number,
    private readonly windowMs: number,
    private readonly threshold: number,
  ) {
    this.switchedAt = new Array<number | null>(outletCount).fill(null);
    this.faults = new Array<OutletFault>(outletCount).fill("none");
  }

  /** A command changed this outlet: its check starts over. */
  switched(outlet: number, now: number): void {
    this.switchedAt[outlet - 1] = now;
    this.faults[outlet - 1] = "none";
  }

  /**
   * Feed one poll with raw sensor currents (not zeroed for off outlets). Returns the outlets whose fault
   * changed, with the new fault.
   */
  check(
    now: number,
    rawCurrents: readonly number[],
    states: readonly boolean[],
  ): [outlet: number, fault: OutletFault][] {
    const changes: [number, OutletFault][] = [];
    for (let i = 0; i < this.faults.length; i++) {
      const amps = rawCurrents[i] ?? 0;
      let fault: OutletFault = this.faults[i] ?? "none";
      if (!states[i] && amps >= this.threshold)
        fault = "welded_relay"; // current through an open relay: always a fault
      else if (states[i] && amps >= this.threshold) fault = "none";
      else if (!states[i]) fault = "none";
      else {
        const since = this.switchedAt[i];
        if (since !== null && since !== undefined && now - since >= this.windowMs) {
          fault = "dead_load";
          this.switchedAt[i] = null; // reported once per switch; a load that appears later clears it
        }
      }
      if (fault !== this.faults[i]) {
        this.faults[i] = fault;
        changes.push([i + 1, fault]);
      }
    }
    return changes;
  }

  fault(outlet: number): OutletFault {
    return this.faults[outlet - 1] ?? "none";
  }
}

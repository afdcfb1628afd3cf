// Power safety around the hardware poll: the budget (refuse, alarm, shed) and the relay/load checks,
// published on the PDU's alarm and per-outlet fault topics.
import type { Settings } from "../config/settings.ts";
import type { CommandError } from "../protocol/commands.ts";
import { LoadChecker, type OutletFault } from "./load-checker.ts";
import { PowerBudget, type OverloadState } from "./power-budget.ts";

export interface SafetyEvents {
  alarm(state: OverloadState & { shed: number[] }): void;
  fault(outlet: number, fault: OutletFault): void;
  /** Switch these outlets off to bring the PDU under its budget. */
  shed(outlets: number[]): void;
}

export class SafetyMonitor {
  private readonly budget: PowerBudget;
  private readonly checker: LoadChecker;
  private currents: number[] = [];
  private states: boolean[] = [];
  private alarmState: (OverloadState & { shed: number[] }) | null = null;

  constructor(
    settings: Settings,
    outletCount: number,
    private readonly events: SafetyEvents,
  ) {
    const outlets = Array.from({ length: outletCount }, (_, i) => settings.outlets[i] ?? {});
    this.budget = new PowerBudget({
      maxCurrent: settings.safety.maxCurrent,
      overloadHoldMs: settings.safety.overloadHold * 1000,
      shed: settings.safety.shed,
      outlets,
    });
    this.checker = new LoadChecker(
      outletCount,
      settings.safety.checkWindow * 1000,
      settings.safety.loadThreshold,
    );
  }

  refuseOn(outlet: number): CommandError | null {
    return this.budget.refuseOn(outlet, this.currents, this.states);
  }

  /** A command switched this outlet (its load check starts over). */
  switched(outlet: number, now: number): void {
    this.checker.switched(outlet, now);
  }

  poll(now: number, currents: readonly number[], states: readonly boolean[]): void {
    this.currents = [...currents];
    this.states = [...states];
    this.budget.observe(currents, states);
    for (const [outlet, fault] of this.checker.check(now, currents, states)) this.events.fault(outlet, fault);
    const { changed, shed } = this.budget.check(now, currents, states);
    if (changed) {
      this.alarmState = { ...changed, shed };
      this.events.alarm(this.alarmState);
    }
    if (shed.length > 0) this.events.shed(shed);
  }

  /** The current alarm and faults, for republishing after a reconnect. */
  snapshot(): { alarm: (OverloadState & { shed: number[] }) | null; faults: OutletFault[] } {
    return { alarm: this.alarmState, faults: this.states.map((_, i) => this.checker.fault(i + 1)) };
  }
}

// The power budget: whether switching an outlet on (expected to draw what the state store learned) fits the PDU's and the outlet's limits, and when a sustained overload must raise an alarm or shed.
// Pure logic: readings and time come in as arguments.
import type { CommandError } from "../protocol/commands.ts";

export interface BudgetOutlet {
  maxCurrent?: number;
  priority?: number;
  protected?: boolean;
}

export interface BudgetOptions {
  maxCurrent: number;
  overloadHoldMs: number;
  shed: boolean;
  outlets: readonly BudgetOutlet[];
}

export interface OverloadState {
  active: boolean;
  current: number;
  limit: number;
  since: number | null;
  /** Outlets over their own limit. */
  outlets: number[];
}

export class PowerBudget {
  private overSince: number | null = null;
  private alarm = false;

  constructor(private readonly options: BudgetOptions) {}

  /**
   * Why switching this outlet on must be refused, or null. `committed`: what each outlet counts now (its
   * reading, or its learned draw when switched on since); `expected`: what this outlet is expected to draw.
   */
  refuseOn(
    outlet: number,
    expected: number,
    committed: readonly number[],
    states: readonly boolean[],
  ): CommandError | null {
    if (states[outlet - 1]) return null;
    const own = this.options.outlets[outlet - 1]?.maxCurrent;
    if (own !== undefined && expected > own) {
      return {
        code: "overload",
        message: `outlet ${outlet} is expected to draw ${expected.toFixed(2)} A, over its ${own} A limit`,
      };
    }
    const total = committed.reduce((sum, a, i) => (states[i] ? sum + a : sum), 0);
    if (total + expected > this.options.maxCurrent) {
      return {
        code: "overload",
        message: `switching outlet ${outlet} on would draw about ${total.toFixed(2)} A + ${expected.toFixed(2)} A = ${(total + expected).toFixed(2)} A, over the ${this.options.maxCurrent} A budget`,
      };
    }
    return null;
  }

  /**
   * Track a sustained overload. Returns the overload state when it changes (raised or cleared), and the
   * outlets to shed when shedding is on and the overload has lasted the hold time.
   */
  check(
    now: number,
    currents: readonly number[],
    states: readonly boolean[],
  ): { changed: OverloadState | null; shed: number[] } {
    const total = currents.reduce((sum, a, i) => (states[i] ? sum + a : sum), 0);
    const overOwn = this.options.outlets.flatMap((o, i) =>
      states[i] && o.maxCurrent !== undefined && (currents[i] ?? 0) > o.maxCurrent ? [i + 1] : [],
    );
    const over = total > this.options.maxCurrent || overOwn.length > 0;
    if (!over) {
      this.overSince = null;
      if (!this.alarm) return { changed: null, shed: [] };
      this.alarm = false;
      return { changed: this.state(false, total, null, []), shed: [] };
    }
    this.overSince ??= now;
    if (now - this.overSince < this.options.overloadHoldMs) return { changed: null, shed: [] };
    const changed = this.alarm ? null : this.state(true, total, this.overSince, overOwn);
    this.alarm = true;
    return { changed, shed: this.options.shed ? this.shedList(total, currents, states, overOwn) : [] };
  }

  /** Unprotected outlets to switch off, lowest priority first (then highest number), until under budget. */
  private shedList(
    total: number,
    currents: readonly number[],
    states: readonly boolean[],
    overOwn: number[],
  ): number[] {
    const candidates = states
      .map((on, i) => ({ n: i + 1, on, o: this.options.outlets[i] ?? {} }))
      .filter((c) => c.on && c.o.protected !== true)
      .sort((a, b) => (a.o.priority ?? 5) - (b.o.priority ?? 5) || b.n - a.n);
    const shed = overOwn.filter((n) => this.options.outlets[n - 1]?.protected !== true);
    let remaining = total - shed.reduce((s, n) => s + (currents[n - 1] ?? 0), 0);
    for (const c of candidates) {
      if (remaining <= this.options.maxCurrent) break;
      if (shed.includes(c.n)) continue;
      shed.push(c.n);
      remaining -= currents[c.n - 1] ?? 0;
    }
    return shed;
  }

  private state(active: boolean, current: number, since: number | null, outlets: number[]): OverloadState {
    return { active, current, limit: this.options.maxCurrent, since, outlets };
  }
}

// The firmware's staggered start after a power cut, seen from the agent: outlets the Mega will still
// switch on by itself. They are shown among the pending actions and can be cancelled like them.
import type { PendingAction } from "./command-executor.ts";
import type { OutletController } from "./hardware/outlet-controller.ts";

/** Pending ids of cold-start steps: COLD_START_ID_BASE + outlet number (commands count up from 1). */
export const COLD_START_ID_BASE = 10_000;

export class ColdStartWatch {
  private pending: boolean[] = [];

  constructor(private readonly controller: OutletController) {}

  /** Re-read the firmware (always when forced, else only while something is pending). True on a change. */
  async refresh(force = false): Promise<boolean> {
    if (!this.controller.readColdStartPending || (!force && !this.pending.some(Boolean))) return false;
    const next = await this.controller.readColdStartPending();
    const changed =
      next.some((p, i) => p !== (this.pending[i] ?? false)) || this.pending.length !== next.length;
    this.pending = next;
    return changed;
  }

  actions(): PendingAction[] {
    return this.pending.flatMap((p, i) =>
      p
        ? [
            {
              id: COLD_START_ID_BASE + i + 1,
              outlet: i + 1,
              action: "on" as const,
              dueAt: null,
              source: "cold_start" as const,
            },
          ]
        : [],
    );
  }

  /** Outlets whose cold-start step matches a cancel request (by id, by outlet, or all). */
  matching(filter: { id?: number; outlet?: number }): number[] {
    return this.actions()
      .filter(
        (a) =>
          (filter.id === undefined || a.id === filter.id) &&
          (filter.outlet === undefined || a.outlet === filter.outlet),
      )
      .map((a) => a.outlet);
  }

  /** The firmware cancels an outlet's pending start when it is switched off explicitly. */
  cancelled(outlet: number): void {
    this.pending[outlet - 1] = false;
  }
}

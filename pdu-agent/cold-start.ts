// The firmware's staggered start after a power cut, seen from the agent: outlets the Mega will still
// switch on by itself. They are shown among the pending actions (in the state store) and can be
// cancelled like them: switching an outlet off explicitly is how the firmware cancels its pending step.
import type { Logger } from "../log/logger.ts";
import type { PendingAction } from "./command-executor.ts";
import type { CommandQueue } from "./command-queue.ts";
import type { ErrorSink } from "./error-sink.ts";
import type { Feature } from "./feature.ts";
import type { OutletController } from "./hardware/outlet-controller.ts";
import type { OutletStateStore } from "./outlet-state.ts";

/** Pending ids of cold-start steps: COLD_START_ID_BASE + outlet number (commands count up from 1). */
export const COLD_START_ID_BASE = 10_000;

export class ColdStartWatch implements Feature {
  readonly name = "cold-start";
  private unsubscribe: (() => void) | null = null;
  private refreshing = false;

  constructor(
    private readonly controller: OutletController,
    private readonly store: OutletStateStore,
    private readonly queue: CommandQueue,
    private readonly logger: Logger,
    private readonly errors: ErrorSink,
  ) {}

  /** Read the firmware's pending steps once, before the first announcement. */
  async open(): Promise<void> {
    await this.refresh(true).catch(() => false);
  }

  start(): Promise<void> {
    // While steps are pending, every poll re-reads them (the firmware runs them on its own clock).
    this.unsubscribe = this.store.subscribe((change) => {
      if (change.kind !== "polled" || this.refreshing || this.actions().length === 0) return;
      this.refreshing = true;
      this.refresh()
        .catch((err: unknown) => this.errors.report("cold-start refresh", err))
        .finally(() => (this.refreshing = false));
    });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.unsubscribe?.();
    return Promise.resolve();
  }

  /** Re-read the firmware (always when forced, else only while something is pending). */
  private async refresh(force = false): Promise<void> {
    if (!this.controller.readColdStartPending || (!force && this.actions().length === 0)) return;
    const next = (await this.controller.readColdStartPending()).flatMap((p, i) => (p ? [i + 1] : []));
    const now = this.actions().map((a) => a.outlet);
    if (next.length !== now.length || next.some((n, i) => n !== now[i])) this.set(next);
  }

  /** The firmware's pending steps, as the state store holds them. */
  actions(): PendingAction[] {
    return this.store.pending().filter((a) => a.source === "cold_start");
  }

  private set(outlets: number[]): void {
    this.store.setPending(
      "cold_start",
      outlets.map((outlet) => ({
        id: COLD_START_ID_BASE + outlet,
        outlet,
        action: "on" as const,
        dueAt: null,
        source: "cold_start" as const,
      })),
    );
  }

  /** Cancel the steps matching a cancel request (by id, by outlet, or all); resolves with their pending ids. */
  async cancel(filter: { id?: number; outlet?: number }): Promise<number[]> {
    const outlets = this.actions()
      .filter(
        (a) =>
          (filter.id === undefined || a.id === filter.id) &&
          (filter.outlet === undefined || a.outlet === filter.outlet),
      )
      .map((a) => a.outlet);
    const ids: number[] = [];
    for (const outlet of outlets) {
      try {
        const states = await this.queue.run(() => this.controller.setRelay(outlet, false));
        this.store.switched(states, Date.now());
        ids.push(COLD_START_ID_BASE + outlet);
      } catch (err) {
        this.logger.warn(`cold start of outlet ${outlet} not cancelled: ${(err as Error).message}`, {
          component: "agent",
        });
      }
    }
    if (ids.length > 0) this.set(this.actions().flatMap((a) => (ids.includes(a.id) ? [] : [a.outlet])));
    return ids;
  }
}

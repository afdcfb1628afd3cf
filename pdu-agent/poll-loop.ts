// The hardware poll: relays and currents read every telemetry.interval and handed to the state store, whose
// subscribers (readings, energy, safety, diagnostics, cold start) take it from there. A poll still running
// when the next is due skips that tick instead of queueing behind it.
import type { Availability } from "./availability.ts";
import type { ErrorSink } from "./error-sink.ts";
import type { Feature } from "./feature.ts";
import type { OutletController } from "./hardware/outlet-controller.ts";
import type { OutletStateStore } from "./outlet-state.ts";

export class PollLoop implements Feature {
  readonly name = "poll";
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly controller: OutletController,
    private readonly store: OutletStateStore,
    private readonly availability: Availability,
    private readonly intervalMs: number,
    private readonly errors: ErrorSink,
  ) {}

  start(): Promise<void> {
    this.timer = setInterval(
      this.errors.guard("poll", () => {
        if (this.running) return; // a slow link skips a tick rather than queueing polls behind each other
        this.running = this.poll().finally(() => (this.running = null));
        return this.running;
      }),
      this.intervalMs,
    );
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One poll; never throws (a failed read counts against the link). */
  async poll(): Promise<void> {
    const count = this.store.outletCount;
    const token = this.store.beginRead();
    let states: boolean[];
    let currents: number[];
    try {
      states = (await this.controller.readRelays()).slice(0, count);
      currents = (await this.controller.readCurrents()).slice(0, count);
    } catch (err) {
      await this.availability.pollFailed(err);
      return;
    }
    await this.availability.pollSucceeded();
    this.store.polled(token, states, currents, Date.now());
  }
}

// The retained `pending` list (delayed commands, all-on steps, the firmware's cold start), published at a
// bounded rate: changes in a burst are coalesced into one message that carries the list as it then stands.
import type { ErrorSink } from "./error-sink.ts";
import type { Feature } from "./feature.ts";
import type { OutletStateStore } from "./outlet-state.ts";
import type { Publisher } from "./publisher.ts";

/** At most one `pending` message per this many milliseconds. */
export const PENDING_MIN_INTERVAL_MS = 250;

export class PendingPublisher implements Feature {
  readonly name = "pending";
  private timer: NodeJS.Timeout | null = null;
  private lastAt = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: OutletStateStore,
    private readonly publisher: Publisher,
    private readonly errors: ErrorSink,
    private readonly minIntervalMs = PENDING_MIN_INTERVAL_MS,
  ) {}

  start(): Promise<void> {
    this.unsubscribe = this.store.subscribe((change) => {
      if (change.kind === "pending") this.schedule();
    });
    return Promise.resolve();
  }

  announce(): Promise<void> {
    return this.publishNow();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      // With the broker gone a QoS 1 publish would wait for a reconnect that a stopping agent never makes.
      if (this.publisher.connected) await this.publishNow();
    }
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastAt + this.minIntervalMs - Date.now());
    this.timer = setTimeout(
      this.errors.guard("pending publication", () => {
        this.timer = null;
        return this.publishNow();
      }),
      wait,
    );
  }

  private publishNow(): Promise<void> {
    this.lastAt = Date.now();
    const { publisher } = this;
    return publisher.json(publisher.topics.pending(publisher.pduId), this.store.pending(), true);
  }
}

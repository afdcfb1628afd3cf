// Energy per outlet as the agent publishes it: integrated from the poll's power readings, saved off the event
// loop, and published only as saved, so no crash can make a published counter go back (Home Assistant
// would read that as a meter reset). A reset that cannot be avoided (no usable file) is announced.
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/logger.ts";
import type { ErrorSink } from "./error-sink.ts";
import { EnergyMeter } from "./energy-meter.ts";
import { EnergyStore } from "./energy-store.ts";
import type { Feature } from "./feature.ts";
import type { OutletStateStore } from "./outlet-state.ts";
import { powersOf } from "./readings-publisher.ts";

export class EnergyAccount implements Feature {
  readonly name = "energy";
  private readonly store: EnergyStore;
  private meter: EnergyMeter | null = null;
  private savedKwh: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private resetInfo: { at: string; reason: string } | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly outlets: OutletStateStore,
    private readonly logger: Logger,
    private readonly errors: ErrorSink,
  ) {
    this.store = new EnergyStore(settings.stateDir, settings.pdu.id);
  }

  /** Restore the counters (before the first poll). */
  async open(): Promise<void> {
    const loaded = await this.store.load(this.outlets.outletCount);
    for (const problem of loaded.problems)
      this.logger.warn(`energy file ${problem}`, { component: "energy" });
    if (loaded.reset !== null) {
      this.resetInfo = { at: new Date().toISOString(), reason: loaded.reset };
      this.logger.error(
        `energy counters restart at 0: no usable copy (${loaded.reset}); Home Assistant will see a meter reset`,
        { component: "energy" },
      );
    }
    this.savedKwh = loaded.kwh;
    const maxGapMs = Math.max(5000, 5 * this.settings.telemetry.interval * 1000);
    this.meter = new EnergyMeter(this.savedKwh, maxGapMs);
  }

  /** Set when the counters restarted from 0 at this start. */
  reset(): { at: string; reason: string } | null {
    return this.resetInfo;
  }

  start(): Promise<void> {
    this.unsubscribe = this.outlets.subscribe((change) => {
      if (change.kind === "polled")
        this.meter?.add(change.now, powersOf(this.settings, this.outlets.currents()));
    });
    this.timer = setInterval(
      this.errors.guard("energy save", () => this.save()),
      this.settings.energy.saveInterval * 1000,
    );
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.save();
  }

  /** What the counters say as far as the disk knows (at most energy.saveInterval behind the meter). */
  saved(): number[] {
    return (this.meter?.values() ?? []).map((v, i) => Math.min(v, this.savedKwh[i] ?? 0));
  }

  async save(): Promise<void> {
    if (!this.meter) return;
    const values = this.meter.values();
    try {
      await this.store.save(values);
      this.savedKwh = values.map((v, i) => Math.max(v, this.savedKwh[i] ?? 0));
    } catch (err) {
      this.logger.error(`energy counters not saved to ${this.store.file}: ${(err as Error).message}`, {
        component: "energy",
      });
    }
  }
}

// The PDU's `diagnostics` topic (retained JSON): link error counters, the agent's start time, unexpected
// errors caught, commands dropped, and an energy counter reset when one happened. Sent when it changes.
import type { Settings } from "../config/settings.ts";
import { ChangeFilter } from "./change-filter.ts";
import type { ErrorSink } from "./error-sink.ts";
import type { Feature } from "./feature.ts";
import type { LinkCounters } from "./hardware/register-client.ts";
import type { OutletStateStore } from "./outlet-state.ts";
import type { Publisher } from "./publisher.ts";

export interface DiagnosticsPayload {
  /** Failed I2C transactions since the agent started (CRC, NACK, I/O, short reads), retried or not. */
  linkErrors: number;
  /** Operations that failed after every retry. */
  linkFailures: number;
  startedAt: string;
  /** Unexpected exceptions caught in handlers and timers (each logged with its stack). */
  errors: number;
  /** Messages dropped: response topics outside `<base>/response/`, and the like. */
  dropped: number;
  /** Set when the energy counters could not be restored and started again from 0. */
  energyReset?: { at: string; reason: string };
}

export function diagnosticsOf(
  counters: LinkCounters,
  startedAt: number,
): Pick<DiagnosticsPayload, "linkErrors" | "linkFailures" | "startedAt"> {
  return {
    linkErrors: counters.crcErrors + counters.nacks + counters.ioErrors + counters.shortReads,
    linkFailures: counters.failures,
    startedAt: new Date(startedAt).toISOString(),
  };
}

export interface DiagnosticsDeps {
  settings: Settings;
  store: OutletStateStore;
  publisher: Publisher;
  errors: ErrorSink;
  counters: () => LinkCounters;
  dropped: () => number;
  energyReset: () => { at: string; reason: string } | null;
  isOnline: () => boolean;
  startedAt: number;
}

export class Diagnostics implements Feature {
  readonly name = "diagnostics";
  private readonly filter: ChangeFilter;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly deps: DiagnosticsDeps) {
    this.filter = new ChangeFilter(deps.settings.telemetry.maxAge * 1000);
  }

  payload(): DiagnosticsPayload {
    const reset = this.deps.energyReset();
    return {
      ...diagnosticsOf(this.deps.counters(), this.deps.startedAt),
      errors: this.deps.errors.errors,
      dropped: this.deps.dropped(),
      ...(reset ? { energyReset: reset } : {}),
    };
  }

  start(): Promise<void> {
    this.unsubscribe = this.deps.store.subscribe((change) => {
      if (change.kind === "polled") void this.publish(change.now);
    });
    return Promise.resolve();
  }

  announce(): Promise<void> {
    this.filter.reset();
    return this.publish(Date.now());
  }

  stop(): Promise<void> {
    this.unsubscribe?.();
    return Promise.resolve();
  }

  private async publish(now: number): Promise<void> {
    if (!this.deps.isOnline()) return;
    const text = JSON.stringify(this.payload());
    if (!this.filter.offer("diagnostics", text, 0, now)) return;
    const { publisher } = this.deps;
    await publisher.publish(publisher.topics.diagnostics(publisher.pduId), text, true);
  }
}

// What a client does with a message it cannot use: drop it, count it, and say so in the log without letting
// a flood of junk flood the log too (one line per kind of problem per interval, with how many were dropped).
import type { Logger } from "../log/logger.ts";

/** Why a message was dropped: its payload failed its schema, it named a PDU the directory does not hold
 * (or will not hold: full), it answered nothing we asked, or handling it threw (a bug, logged with its stack). */
export type DropReason = "invalid" | "pdu_mismatch" | "directory_full" | "unsolicited" | "handler_error";

export interface DropCount {
  kind: string;
  reason: DropReason;
  count: number;
}

const LOG_INTERVAL_MS = 60_000;

export class MessageGuard {
  private readonly counts = new Map<string, DropCount>();
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger | null,
    private readonly component: string,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = LOG_INTERVAL_MS,
  ) {}

  /** Count a dropped message and log it unless the same kind of drop was logged within the interval. */
  drop(kind: string, reason: DropReason, detail: string): void {
    const key = `${kind}\u0000${reason}`;
    const entry = this.counts.get(key) ?? { kind, reason, count: 0 };
    entry.count++;
    this.counts.set(key, entry);
    const last = this.lastLogged.get(key);
    const now = this.now();
    if (last && now - last.at < this.intervalMs) {
      last.suppressed++;
      return;
    }
    const more =
      last && last.suppressed > 0 ? ` (${last.suppressed} more dropped since the last report)` : "";
    this.lastLogged.set(key, { at: now, suppressed: 0 });
    if (reason === "handler_error")
      this.logger?.error(`${kind} handler failed (the process goes on): ${detail}${more}`, {
        component: this.component,
      });
    else
      this.logger?.warn(`dropped ${kind} message: ${reason}: ${detail}${more}`, {
        component: this.component,
      });
  }

  /** An exception a handler or a timer threw: counted and logged with its stack, never rethrown. */
  failed(kind: string, err: unknown): void {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.drop(kind, "handler_error", text);
  }

  /** Every drop so far, by message kind and reason (for /metrics and diagnostics). */
  dropped(): DropCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  /** Run `fn`; an exception is counted and logged with its stack instead of escaping. */
  guard(kind: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.failed(kind, err);
    }
  }
}

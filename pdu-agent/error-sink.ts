// Where an unexpected exception in a message handler, a timer or a listener ends up: logged with its
// stack and counted (on the diagnostics topic), never thrown further, so one bad message cannot stop the
// process and none is hidden.
import type { Logger } from "../log/logger.ts";

export class ErrorSink {
  private count = 0;

  constructor(private readonly logger: Logger) {}

  /** Unexpected exceptions caught since start. */
  get errors(): number {
    return this.count;
  }

  report(where: string, err: unknown): void {
    this.count++;
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.logger.error(`unexpected error in ${where}: ${text}`, { component: "agent" });
  }

  /** A callback that reports instead of throwing, for synchronous and async work alike. */
  guard<A extends unknown[]>(where: string, fn: (...args: A) => unknown): (...args: A) => void {
    return (...args: A) => {
      try {
        const out = fn(...args);
        if (out instanceof Promise) out.catch((err: unknown) => this.report(where, err));
      } catch (err) {
        this.report(where, err);
      }
    };
  }
}

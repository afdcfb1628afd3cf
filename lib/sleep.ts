// Timers the pure logic can be given, so tests run without waiting.
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Resolves after ms, or early (without error) when the signal aborts. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });

// Decides which readings to publish: a value that moved beyond its deadband, or any value not sent for maxAge.
export class ChangeFilter {
  private readonly last = new Map<string, { value: number | string; at: number }>();

  constructor(private readonly maxAgeMs: number) {}

  /** True when the value should be published now; records it as published. */
  offer(key: string, value: number | string, deadband: number, now: number): boolean {
    const prev = this.last.get(key);
    let publish = prev === undefined || now - prev.at >= this.maxAgeMs;
    if (!publish && prev !== undefined) {
      if (typeof value === "string" || typeof prev.value === "string") publish = value !== prev.value;
      else publish = deadband > 0 ? Math.abs(value - prev.value) >= deadband : value !== prev.value;
    }
    if (publish) this.last.set(key, { value, at: now });
    return publish;
  }

  /** Forget everything, so the next offer of every key publishes (after a reconnect). */
  reset(): void {
    this.last.clear();
  }
}

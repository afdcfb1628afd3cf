// What the broker retains: piPDU's topic tree and Home Assistant discovery only, within size caps. A
// retained publish elsewhere, or over a cap, is still delivered live but not kept — in memory or on disk —
// so no client can fill the Pi's memory or its SD card with retained junk that outlives restarts.

export interface RetainedBudgetOptions {
  /** Topic trees kept (`pipdu`, `homeassistant`): a topic is kept when its first levels are one of these; "#" keeps every topic. */
  trees: readonly string[];
  /** Largest retained payload kept (bytes). */
  maxMessageBytes: number;
  /** All retained topics and payloads together (bytes). */
  maxTotalBytes: number;
  /** Retained topics kept. */
  maxMessages: number;
}

export const DEFAULT_RETAINED_LIMITS = {
  maxMessageBytes: 64 * 1024,
  maxTotalBytes: 8 * 1024 * 1024,
  maxMessages: 20_000,
};

export class RetainedBudget {
  readonly #options: RetainedBudgetOptions;
  readonly #sizes = new Map<string, number>();
  #total = 0;

  constructor(options: RetainedBudgetOptions) {
    this.#options = options;
  }

  /** Retained topics and bytes currently kept. */
  get usage(): { messages: number; bytes: number } {
    return { messages: this.#sizes.size, bytes: this.#total };
  }

  /**
   * Accounts a retained publish; null when it may be kept, else why not (the caller then delivers it
   * without retaining it). An empty payload deletes [MQTT-3.3.1-10] and is always admitted.
   */
  admit(topic: string, payloadBytes: number): string | null {
    const { trees, maxMessageBytes, maxTotalBytes, maxMessages } = this.#options;
    if (!trees.some((tree) => tree === "#" || topic.startsWith(`${tree}/`)))
      return "outside the retained topics";
    const old = this.#sizes.get(topic);
    if (payloadBytes === 0) {
      if (old !== undefined) {
        this.#total -= old;
        this.#sizes.delete(topic);
      }
      return null;
    }
    const size = Buffer.byteLength(topic) + payloadBytes;
    if (payloadBytes > maxMessageBytes) return `payload over ${maxMessageBytes} bytes`;
    if (old === undefined && this.#sizes.size >= maxMessages) return `already ${maxMessages} retained topics`;
    if (this.#total - (old ?? 0) + size > maxTotalBytes)
      return `retained messages over ${maxTotalBytes} bytes`;
    this.#total += size - (old ?? 0);
    this.#sizes.set(topic, size);
    return null;
  }
}

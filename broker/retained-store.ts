// Retained messages kept in one JSON file so they survive a broker restart.
// Writes go through lib/durable-file's CoalescedWriter: off the event loop (temp file, fsync, rename),
// at most one at a time, and a burst of changes costs one write; at most `flushDelayMs` plus one write
// of changes are lost in a crash. What is kept is bounded by RetainedBudget, so a write stays small.
import { readFile, rename } from "node:fs/promises";
import path from "node:path";
import { CoalescedWriter } from "../lib/durable-file.ts";
import type { Logger } from "../log/logger.ts";

/** What is kept of a retained PUBLISH: enough to publish it again after a restart. */
export interface RetainedMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** MQTT 5 properties (user properties, content type, expiry, ...), when the broker keeps them. */
  properties?: Record<string, unknown>;
  /** Epoch ms when stored: lets a message expiry interval keep counting across a restart. */
  storedAt: number;
}

const FILE_NAME = "retained.json";
const FORMAT_VERSION = 1;

export class RetainedStore {
  readonly #file: string;
  readonly #logger: Logger;
  readonly #writer: CoalescedWriter;
  readonly #messages = new Map<string, RetainedMessage>();
  /**
   * Each message as it appears in the file, serialized at the first write after it was recorded (a topic
   * that changes many times between two writes is serialized once); a write joins them.
   */
  readonly #encoded = new Map<string, string>();

  constructor(options: { stateDir: string; logger: Logger; flushDelayMs?: number }) {
    this.#file = path.join(options.stateDir, FILE_NAME);
    this.#logger = options.logger;
    this.#writer = new CoalescedWriter(this.#file, {
      delayMs: options.flushDelayMs ?? 200,
      onError: (error) =>
        this.#logger.error("retained store write failed", { file: this.#file, error: String(error) }),
    });
  }

  /** Writes that reached the disk (diagnostics, tests). */
  get writeCount(): number {
    return this.#writer.writeCount;
  }

  /** Reads the file; a missing file is an empty store, a corrupt one is set aside and logged. */
  async load(): Promise<RetainedMessage[]> {
    let text: string;
    try {
      text = await readFile(this.#file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    try {
      for (const message of decode(text)) this.#set(message);
    } catch (error) {
      const aside = `${this.#file}.corrupt-${Date.now()}`;
      await rename(this.#file, aside);
      this.#logger.error("retained store unreadable, starting empty", {
        file: this.#file,
        movedTo: aside,
        error: String(error),
      });
      this.#messages.clear();
      this.#encoded.clear();
    }
    return [...this.#messages.values()];
  }

  /** Records a retained publish; an empty payload deletes the topic's message [MQTT-3.3.1-10]. */
  record(message: RetainedMessage): void {
    if (message.payload.length === 0) this.#forget(message.topic);
    else this.#set(message);
    this.#schedule();
  }

  /** Forgets a topic's message (one the broker no longer keeps). */
  delete(topic: string): void {
    if (this.#forget(topic)) this.#schedule();
  }

  #set(message: RetainedMessage): void {
    this.#messages.set(message.topic, message);
    this.#encoded.delete(message.topic);
  }

  #render(): string {
    const parts: string[] = [];
    for (const [topic, message] of this.#messages) {
      let encoded = this.#encoded.get(topic);
      if (encoded === undefined) {
        encoded = encodeMessage(message);
        this.#encoded.set(topic, encoded);
      }
      parts.push(encoded);
    }
    return encodeFile(parts);
  }

  #forget(topic: string): boolean {
    this.#encoded.delete(topic);
    return this.#messages.delete(topic);
  }

  /** Writes pending changes now; resolves once they are on disk. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  #schedule(): void {
    this.#writer.schedule(() => this.#render());
  }
}

/** The file: `{"version":1,"messages":[...]}`, from messages already serialized by encodeMessage. */
function encodeFile(encoded: string[]): string {
  return `{"version":${FORMAT_VERSION},"messages":[${encoded.join(",")}]}`;
}

// Buffers (payloads, MQTT 5 correlation data) are stored as {"$base64": "..."}.
// Payloads are turned to base64 before JSON.stringify: left to it, Buffer#toJSON makes an array of one
// number per byte that the replacer then walks (a burst of retained discovery made every write cost
// milliseconds of broker CPU); only the few Buffers in MQTT 5 properties go through the replacer.
function encodeMessage(message: RetainedMessage): string {
  const stored = { ...message, payload: { $base64: message.payload.toString("base64") } };
  return JSON.stringify(stored, (_key, value: unknown) => {
    if (isSerializedBuffer(value)) return { $base64: Buffer.from(value.data).toString("base64") };
    return value;
  });
}

function decode(text: string): RetainedMessage[] {
  const parsed = JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === "object" && value !== null && "$base64" in value) {
      return Buffer.from(String(value.$base64), "base64");
    }
    return value;
  }) as { version?: unknown; messages?: unknown };
  if (parsed.version !== FORMAT_VERSION || !Array.isArray(parsed.messages)) {
    throw new Error(`expected {"version":${FORMAT_VERSION},"messages":[...]}`);
  }
  return parsed.messages.map((entry: unknown, index) => {
    const m = entry as Partial<RetainedMessage>;
    if (
      typeof m.topic !== "string" ||
      !Buffer.isBuffer(m.payload) ||
      (m.qos !== 0 && m.qos !== 1 && m.qos !== 2)
    ) {
      throw new Error(`message ${index} is malformed`);
    }
    const message: RetainedMessage = {
      topic: m.topic,
      payload: m.payload,
      qos: m.qos,
      storedAt: Number(m.storedAt) || Date.now(),
    };
    if (typeof m.properties === "object") message.properties = m.properties;
    return message;
  });
}

// JSON.stringify calls Buffer#toJSON before the replacer sees the value.
function isSerializedBuffer(value: unknown): value is { type: "Buffer"; data: number[] } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { type?: unknown }).type === "Buffer" &&
    Array.isArray((value as { data?: unknown }).data)
  );
}

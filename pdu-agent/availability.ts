// Availability and link health: the PDU is online while the hardware answers (three failed polls in a row
// take it offline), and only the agent says so. A different value appearing on the agent's own retained
// availability topic (a forged "offline", a stale last will) is answered at once with the truth.
import type { IPublishPacket } from "mqtt";
import type { Logger } from "../log/logger.ts";
import { OFFLINE, ONLINE } from "../protocol/payloads.ts";
import type { ErrorSink } from "./error-sink.ts";
import type { Feature } from "./feature.ts";
import type { Publisher } from "./publisher.ts";

/** Consecutive failed hardware polls before the PDU is reported offline. */
export const LINK_FAILURES_OFFLINE = 3;
/** Re-assertions per minute at most, so two agents configured with one id cannot flood the broker. */
const MAX_REASSERTS_PER_MINUTE = 30;

export class Availability implements Feature {
  readonly name = "availability";
  private failures = 0;
  private stopping = false;
  /** Nothing is re-asserted before the agent's first announcement (which says it anyway). */
  private announced = false;
  private reasserts: number[] = [];
  private readonly onMessage: (topic: string, payload: Buffer, packet: IPublishPacket) => void;

  constructor(
    private readonly publisher: Publisher,
    private readonly logger: Logger,
    errors: ErrorSink,
    /** Called when the link comes back after an outage: everything is announced again. */
    private readonly restored: () => Promise<void>,
  ) {
    this.onMessage = errors.guard("availability message", (topic: string, payload: Buffer) =>
      this.heard(topic, payload),
    );
  }

  get online(): boolean {
    return !this.stopping && this.failures < LINK_FAILURES_OFFLINE;
  }

  async start(): Promise<void> {
    const client = this.publisher.client;
    if (!client) return;
    client.on("message", this.onMessage);
    const topic = this.publisher.topics.availability(this.publisher.pduId);
    await client.subscribeAsync(topic, { qos: 1 }).catch((err: unknown) => {
      this.logger.warn(
        `cannot watch ${topic} (${(err as Error).message}): a forged value there is not corrected`,
        {
          component: "mqtt",
        },
      );
    });
  }

  announce(): Promise<void> {
    this.announced = true;
    return this.publisher.availability(this.online);
  }

  /** Publish offline (the agent is stopping); the watch no longer answers. */
  async goingOffline(): Promise<void> {
    this.stopping = true;
    await this.publisher.availability(false);
  }

  stop(): Promise<void> {
    this.stopping = true;
    this.publisher.client?.removeListener("message", this.onMessage);
    return Promise.resolve();
  }

  async pollSucceeded(): Promise<boolean> {
    if (this.failures < LINK_FAILURES_OFFLINE) {
      this.failures = 0;
      return false;
    }
    this.failures = 0;
    this.logger.info("hardware link restored", { component: "agent" });
    await this.restored();
    return true;
  }

  async pollFailed(err: unknown): Promise<void> {
    this.failures++;
    this.logger.warn(`hardware poll failed (${this.failures} in a row): ${(err as Error).message}`, {
      component: "agent",
    });
    if (this.failures === LINK_FAILURES_OFFLINE) await this.publisher.availability(false);
  }

  private heard(topic: string, payload: Buffer): void {
    const own = this.publisher.topics.availability(this.publisher.pduId);
    if (topic !== own || this.stopping || !this.announced) return;
    const said = payload.toString("utf8");
    const truth = this.online ? ONLINE : OFFLINE;
    if (said === truth || !this.publisher.connected) return;
    const now = Date.now();
    this.reasserts = this.reasserts.filter((at) => now - at < 60_000);
    if (this.reasserts.length >= MAX_REASSERTS_PER_MINUTE) return;
    this.reasserts.push(now);
    this.logger.warn(
      `"${said.slice(0, 20).replace(/[^\x20-\x7e]/g, "?")}" appeared on ${topic}; re-asserting "${truth}"`,
      { component: "mqtt" },
    );
    void this.publisher.availability(this.online);
  }
}

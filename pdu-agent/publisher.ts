// The agent's voice on MQTT: every publish of the agent's own topics goes through here. A failed publish
// is logged, never thrown (the broker may be gone; the next (re)connect announces everything again).
import type { MqttClient } from "mqtt";
import type { Logger } from "../log/logger.ts";
import { OFFLINE, ONLINE } from "../protocol/payloads.ts";
import type { Topics } from "../protocol/topics.ts";

/** While stopping, the longest a publish is waited for: the broker may have gone for good. */
const STOPPING_WAIT_MS = 2000;

export class Publisher {
  private current: MqttClient | null = null;
  private stopping = false;
  /** Publishes awaiting their acknowledgement, each with the function that gives it up once stopping. */
  private readonly inFlight = new Set<() => void>();

  constructor(
    readonly topics: Topics,
    readonly pduId: string,
    private readonly logger: Logger,
  ) {}

  attach(client: MqttClient | null): void {
    this.current = client;
  }

  get client(): MqttClient | null {
    return this.current;
  }

  get connected(): boolean {
    return this.current?.connected === true;
  }

  /**
   * The agent is stopping: from now on a publish is dropped when the broker is unreachable and waited for at
   * most STOPPING_WAIT_MS otherwise, so no feature's stop waits for a broker that may never return.
   */
  stop(): void {
    this.stopping = true;
    for (const abandon of this.inFlight) abandon();
  }

  /** Publish; a failure is logged, never thrown (the next (re)connect announces everything again). */
  publish(
    topic: string,
    payload: string,
    retain: boolean,
    qos: 0 | 1 = 1,
    properties?: { correlationData?: Buffer },
  ): Promise<void> {
    return this.deliver(topic, payload, retain, qos, properties).catch((err: unknown) => {
      this.logger.warn(`publish to ${topic} failed: ${(err as Error).message}`, { component: "mqtt" });
    });
  }

  /**
   * Publish and reject when it fails, for a caller that keeps a record of what reached the broker (Home
   * Assistant discovery). While stopping it rejects rather than wait for a broker that may never return.
   */
  deliver(
    topic: string,
    payload: string,
    retain: boolean,
    qos: 0 | 1 = 1,
    properties?: { correlationData?: Buffer },
  ): Promise<void> {
    const client = this.current;
    if (!client) return Promise.reject(new Error("not connected"));
    if (this.stopping && !client.connected)
      return Promise.reject(new Error("stopping with the broker unreachable"));
    const sent = client
      .publishAsync(topic, payload, { qos, retain, ...(properties ? { properties } : {}) })
      .then(() => undefined);
    if (this.stopping) return Promise.race([sent, this.giveUpLater()]);
    // One sent before the stop but not yet acknowledged is given up the same way once the stop begins.
    return new Promise<void>((resolve, reject) => {
      const abandon = (): void => void this.giveUpLater().catch(reject);
      this.inFlight.add(abandon);
      sent.then(resolve, reject).finally(() => this.inFlight.delete(abandon));
    });
  }

  private giveUpLater(): Promise<never> {
    return new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("stopping: the broker did not answer")), STOPPING_WAIT_MS).unref(),
    );
  }

  json(topic: string, value: unknown, retain: boolean, qos: 0 | 1 = 1): Promise<void> {
    return this.publish(topic, JSON.stringify(value), retain, qos);
  }

  availability(online: boolean): Promise<void> {
    return this.publish(this.topics.availability(this.pduId), online ? ONLINE : OFFLINE, true);
  }
}

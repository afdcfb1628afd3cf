// The agent's voice on MQTT: every publish of the agent's own topics goes through here. A failed publish
// is logged, never thrown (the broker may be gone; the next (re)connect announces everything again).
import type { MqttClient } from "mqtt";
import type { Logger } from "../log/logger.ts";
import { OFFLINE, ONLINE } from "../protocol/payloads.ts";
import type { Topics } from "../protocol/topics.ts";

export class Publisher {
  private current: MqttClient | null = null;

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

  publish(
    topic: string,
    payload: string,
    retain: boolean,
    qos: 0 | 1 = 1,
    properties?: { correlationData?: Buffer },
  ): Promise<void> {
    const client = this.current;
    if (!client) return Promise.resolve();
    return client.publishAsync(topic, payload, { qos, retain, ...(properties ? { properties } : {}) }).then(
      () => undefined,
      (err: unknown) => {
        this.logger.warn(`publish to ${topic} failed: ${(err as Error).message}`, { component: "mqtt" });
      },
    );
  }

  json(topic: string, value: unknown, retain: boolean, qos: 0 | 1 = 1): Promise<void> {
    return this.publish(topic, JSON.stringify(value), retain, qos);
  }

  availability(online: boolean): Promise<void> {
    return this.publish(this.topics.availability(this.pduId), online ? ONLINE : OFFLINE, true);
  }
}

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
  /** The agent's commands are subscribed on the current connection: only then may it say "online". */
  private commandsTaken = false;
  private readonly onClose = (): void => {
    this.commandsTaken = false;
    if (this.current) this.dropStaleAvailability(this.current);
  };
  /** Publishes awaiting their acknowledgement, each with the function that gives it up once stopping. */
  private readonly inFlight = new Set<() => void>();

  constructor(
    readonly topics: Topics,
    readonly pduId: string,
    private readonly logger: Logger,
  ) {}

  attach(client: MqttClient | null): void {
    if (client === this.current) return;
    this.current?.removeListener("close", this.onClose);
    client?.on("close", this.onClose);
    this.current = client;
    this.commandsTaken = false;
  }

  /** The command subscriptions are in place on this connection (after a connect or a reconnect). */
  commandsSubscribed(): void {
    if (this.connected) this.commandsTaken = true;
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

  /**
   * Availability speaks for the connection it is sent on: "online" means the commands are subscribed there.
   * It is never queued while disconnected, and one still unacknowledged when the connection drops is taken
   * back (see dropStaleAvailability): MQTT.js would otherwise send it first on the next connection, before
   * the subscriptions are restored, and a command sent on seeing it would be lost. Nor is "online" said on a
   * new connection before the agent has subscribed its commands there (commandsSubscribed): MQTT.js counts a
   * client connected while it still resends the old connection's messages. Each (re)connect announces
   * availability afresh.
   */
  availability(online: boolean): Promise<void> {
    const topic = this.topics.availability(this.pduId);
    if (!this.connected || (online && !this.commandsTaken)) {
      this.logger.debug(`not connected: "${online ? ONLINE : OFFLINE}" left for the next connect`, {
        component: "mqtt",
      });
      return Promise.resolve();
    }
    return this.deliver(topic, online ? ONLINE : OFFLINE, true).catch((err: unknown) => {
      const message = (err as Error).message;
      const level = message === "Message removed" ? "debug" : "warn";
      this.logger[level](`publish to ${topic} failed: ${message}`, { component: "mqtt" });
    });
  }

  /**
   * Removes availability publishes the broker never acknowledged from the client's outgoing store. Not
   * once the client is ending: its stores are closed then (and nothing will be resent anyway).
   */
  private dropStaleAvailability(client: MqttClient): void {
    const ending = (): boolean => client.disconnecting || client.disconnected;
    if (ending()) return;
    try {
      const topic = this.topics.availability(this.pduId);
      const stale: number[] = [];
      const stream = client.outgoingStore.createStream();
      stream.on("data", (packet: { cmd?: string; topic?: string; messageId?: number }) => {
        if (packet.cmd === "publish" && packet.topic === topic && packet.messageId !== undefined)
          stale.push(packet.messageId);
      });
      stream.on("error", () => undefined);
      stream.on("end", () => {
        if (ending()) return;
        try {
          for (const id of stale) client.removeOutgoingMessage(id);
        } catch (err) {
          this.logger.debug(`stale availability not removed: ${(err as Error).message}`, {
            component: "mqtt",
          });
        }
      });
    } catch (err) {
      this.logger.debug(`stale availability not removed: ${(err as Error).message}`, { component: "mqtt" });
    }
  }
}

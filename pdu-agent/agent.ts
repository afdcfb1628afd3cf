// The pdu-agent: owns the hardware, polls it, integrates energy, and serves the MQTT contract. It connects,
// starts its features in order and stops them in reverse; everything else lives in the features (see
// create-agent.ts for how they are put together). Starting or stopping it never switches an outlet: relay
// state is read from the firmware, never written on start.
import type { MqttClient } from "mqtt";
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/logger.ts";
import { connectMqtt } from "../lib/mqtt-connect.ts";
import type { InfoPayload } from "../protocol/payloads.ts";
import type { Availability } from "./availability.ts";
import type { CommandExecutor } from "./command-executor.ts";
import type { ErrorSink } from "./error-sink.ts";
import type { Feature } from "./feature.ts";
import type { OutletController } from "./hardware/outlet-controller.ts";
import type { OutletStateStore } from "./outlet-state.ts";
import type { AgentContext, AgentPlugin } from "./plugin.ts";
import type { PollLoop } from "./poll-loop.ts";
import type { Publisher } from "./publisher.ts";

export { AGENT_VERSION } from "./snapshot.ts";

export interface AgentParts {
  settings: Settings;
  controller: OutletController;
  logger: Logger;
  store: OutletStateStore;
  executor: CommandExecutor;
  publisher: Publisher;
  errors: ErrorSink;
  availability: Availability;
  poll: PollLoop;
  /** Core features in start order (the poll loop and availability included); stopped in reverse. */
  features: Feature[];
  plugins: AgentPlugin[];
  info: () => InfoPayload;
  coldStartPolicy: boolean;
  /** Opened before connecting (energy counters, cold-start steps). */
  open: () => Promise<void>;
  /** Flushed last on stop (energy counters). */
  close: () => Promise<void>;
}

export class PduAgent {
  private client: MqttClient | null = null;
  private readonly abort = new AbortController();
  private readonly startedAt = Date.now();
  private readonly pluginWork = new Set<Promise<unknown>>();

  constructor(private readonly parts: AgentParts) {}

  get pduId(): string {
    return this.parts.settings.pdu.id;
  }

  /** The outlet state store: what the agent knows about its outlets (for embedding and tests). */
  get store(): OutletStateStore {
    return this.parts.store;
  }

  async start(): Promise<void> {
    const { settings, logger, publisher, features } = this.parts;
    await this.parts.open();
    const { mqtt } = settings;
    const client = await connectMqtt({
      url: mqtt.url,
      clientId: `pipdu-${this.pduId}`,
      protocol: mqtt.protocol,
      username: mqtt.username,
      password: mqtt.password,
      caFile: mqtt.caFile,
      will: { topic: publisher.topics.availability(this.pduId), payload: "offline", retain: true, qos: 1 },
      logger,
      signal: this.abort.signal,
    });
    this.client = client;
    publisher.attach(client);
    for (const feature of features) await feature.start();
    publisher.commandsSubscribed();
    const context = this.context(client);
    for (const plugin of this.parts.plugins) {
      await plugin
        .start(context)
        .catch((err: unknown) => this.parts.errors.report(`${plugin.name} start`, err));
    }
    client.on(
      "connect",
      this.parts.errors.guard("reconnect", () => this.reconnected()),
    );
    client.on("offline", () => logger.warn("broker connection lost; reconnecting", { component: "mqtt" }));
    // An "error" event with no listener would throw and end the process (a refused reconnect, a broken stream).
    // Logged when it changes or once a minute, not at every reconnect attempt.
    let lastError = { text: "", at: 0 };
    client.on("error", (err) => {
      const now = Date.now();
      if (err.message === lastError.text && now - lastError.at < 60_000) return;
      lastError = { text: err.message, at: now };
      logger.warn(`MQTT: ${err.message}; retrying`, { component: "mqtt" });
    });
    await this.parts.poll.poll();
    // If the connection drops meanwhile, start-up is done anyway: the next connect announces again.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        client.off("close", done);
        resolve();
      };
      client.once("close", done);
      void this.announce().finally(done);
    });
  }

  async stop(): Promise<void> {
    const { features, plugins, executor, publisher, availability, logger } = this.parts;
    this.abort.abort();
    publisher.stop();
    await this.parts.poll.stop();
    await executor.stop();
    for (const plugin of plugins)
      await plugin.stop().catch((err: unknown) => this.parts.errors.report(`${plugin.name} stop`, err));
    await Promise.allSettled([...this.pluginWork]);
    const client = this.client;
    // The publisher no longer waits for a broker that may never return (publisher.stop() above).
    if (client?.connected) await availability.goingOffline();
    for (const feature of [...features].reverse()) {
      await feature.stop().catch((err: unknown) => this.parts.errors.report(`${feature.name} stop`, err));
    }
    await this.parts.close();
    if (client) {
      // A graceful end waits for in-flight QoS 1 messages; a client that has not yet seen the broker go would
      // wait for ever, so it gets as long as any publish while stopping, then the connection is dropped.
      const ended = await Promise.race([
        client.endAsync(!client.connected).then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
      ]);
      if (!ended) await client.endAsync(true);
    }
    publisher.attach(null);
    await this.parts.controller.close();
    logger.info("stopped; relays left as they are", { component: "agent" });
  }

  /**
   * Everything a client needs after a (re)connect. Availability and info go out first, then every feature
   * announces beside the others; the plugins' announcements (Home Assistant discovery) run on their own and
   * are not waited for, so a slow or failing one never holds the PDU "offline".
   */
  /** A reconnect: commands are subscribed again first, so the "online" that follows means they are taken. */
  private async reconnected(): Promise<void> {
    const { features, errors } = this.parts;
    await Promise.all(
      features.map((f) =>
        (f.resubscribe ? f.resubscribe() : Promise.resolve()).catch((err: unknown) =>
          errors.report(`${f.name} resubscribe`, err),
        ),
      ),
    );
    this.parts.publisher.commandsSubscribed();
    await this.announce();
  }

  async announce(): Promise<void> {
    const { publisher, features, plugins, errors, availability } = this.parts;
    if (!publisher.client) return;
    const first = [
      availability.announce(),
      publisher.json(publisher.topics.info(this.pduId), this.parts.info(), true),
    ];
    for (const plugin of plugins) {
      if (!plugin.announce) continue;
      const work = plugin.announce().catch((err: unknown) => errors.report(`${plugin.name} announce`, err));
      this.pluginWork.add(work);
      void work.finally(() => this.pluginWork.delete(work));
    }
    await Promise.all([
      ...first,
      ...features
        .filter((f) => f !== availability)
        .map((f) =>
          (f.announce ? f.announce() : Promise.resolve()).catch((err: unknown) =>
            errors.report(`${f.name} announce`, err),
          ),
        ),
    ]);
  }

  private context(client: MqttClient): AgentContext {
    return {
      client,
      publish: (topic, payload, retain) => this.parts.publisher.deliver(topic, payload, retain),
      topics: this.parts.publisher.topics,
      settings: this.parts.settings,
      logger: this.parts.logger,
      startedAt: this.startedAt,
      info: () => this.parts.info(),
      coldStartPolicy: this.parts.coldStartPolicy,
      isOnline: () => this.parts.availability.online,
      republish: () => this.announce(),
      reportError: (where, err) => this.parts.errors.report(where, err),
    };
  }
}

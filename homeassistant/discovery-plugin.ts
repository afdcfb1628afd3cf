// Publishes the PDU's Home Assistant device discovery (retained) and keeps it right: re-sent on HA's birth
// message and after a broker reconnect, not re-sent when unchanged, components that went away removed once,
// everything withdrawn when discovery is switched off.
import path from "node:path";
import { PACKAGE_ROOT } from "../lib/package-root.ts";
import fs from "node:fs";
import type { IPublishPacket } from "mqtt";
import type { AgentContext, AgentPlugin } from "../pdu-agent/plugin.ts";
import { ONLINE } from "../protocol/payloads.ts";
import {
  buildDiscovery,
  discoveryTopic,
  platformsOf,
  withRemovals,
  type DiscoveryInput,
  type Platform,
} from "./discovery-payload.ts";
import { DiscoveryStore } from "./discovery-store.ts";

export interface DiscoveryOptions {
  /** The device's "Visit" link in HA: the web page, when it runs. */
  configurationUrl?: string | null;
  /** Delay before re-announcing after HA's birth message: min + random() × spread (ms), so many devices do not answer at once. */
  birthDelay?: { minMs: number; spreadMs: number };
  random?: () => number;
}

export class HomeAssistantDiscovery implements AgentPlugin {
  readonly name = "homeassistant-discovery";
  private context: AgentContext | null = null;
  private store: DiscoveryStore | null = null;
  private forceNext = false;
  private birthTimer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
    try {
      this.onStatus(topic, payload, packet);
    } catch (err) {
      this.context?.reportError("Home Assistant status", err);
    }
  };
  private readonly onReconnect = (): void => {
    // The broker may have lost retained messages, and HA's birth may have come before we subscribed again.
    this.forceNext = true;
  };

  constructor(private readonly options: DiscoveryOptions = {}) {}

  async start(context: AgentContext): Promise<void> {
    this.context = context;
    const { settings, client } = context;
    this.store = new DiscoveryStore(settings.stateDir, settings.pdu.id);
    if (!settings.ha.discovery) {
      await this.withdraw();
      return;
    }
    client.on("message", this.onMessage);
    client.on("connect", this.onReconnect);
    // A broker ACL that denies Home Assistant's status topic costs the re-announce on HA restarts, not the PDU.
    await client.subscribeAsync(settings.ha.statusTopic, { qos: 1 }).catch((err: unknown) => {
      this.context?.logger.warn(
        `cannot subscribe to ${settings.ha.statusTopic} (${(err as Error).message}): discovery will not be re-sent when Home Assistant restarts`,
        { component: "homeassistant" },
      );
    });
  }

  async announce(): Promise<void> {
    if (!this.context?.settings.ha.discovery) return;
    const force = this.forceNext;
    this.forceNext = false;
    await this.publish(force);
  }

  async stop(): Promise<void> {
    const client = this.context?.client;
    client?.removeListener("message", this.onMessage);
    client?.removeListener("connect", this.onReconnect);
    if (this.birthTimer) clearTimeout(this.birthTimer);
    this.birthTimer = null;
    await this.chain;
  }

  /** Publish discovery now (serialised with any other publish); unchanged payloads only when forced. */
  publish(force: boolean): Promise<void> {
    const next = this.chain.then(() => this.publishNow(force));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private onStatus(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const ctx = this.context;
    if (!ctx || topic !== ctx.settings.ha.statusTopic) return;
    // HA's birth message is not retained; a retained "online" is stale and says nothing about a restart.
    // Anything but a short "online" (binary, huge, JSON) is not a birth message.
    if (packet.retain || payload.length > 16 || payload.toString("utf8").trim() !== ONLINE) return;
    const { minMs, spreadMs } = this.options.birthDelay ?? { minMs: 500, spreadMs: 2000 };
    const delay = minMs + (this.options.random ?? Math.random)() * spreadMs;
    if (this.birthTimer) clearTimeout(this.birthTimer);
    this.birthTimer = setTimeout(() => {
      this.birthTimer = null;
      this.reannounce().catch((err: unknown) => ctx.reportError("Home Assistant re-announce", err));
    }, delay);
  }

  /** After HA (re)started: discovery first, then availability and every state (the agent's republish). */
  private async reannounce(): Promise<void> {
    const ctx = this.context;
    if (!ctx) return;
    try {
      await this.publish(true);
      await ctx.republish();
      ctx.logger.info("Home Assistant came online: discovery and states re-published", {
        component: "homeassistant",
      });
    } catch (err) {
      ctx.logger.warn(`re-announce to Home Assistant failed: ${(err as Error).message}`, {
        component: "homeassistant",
      });
    }
  }

  private async publishNow(force: boolean): Promise<void> {
    const ctx = this.context;
    const store = this.store;
    if (!ctx || !store) return;
    const { settings, topics } = ctx;
    const topic = discoveryTopic(settings.ha.discoveryPrefix, topics, settings.pdu.id);
    const payload = buildDiscovery(this.input(ctx));
    const text = JSON.stringify(payload);
    const previous = await store.load();
    let removed: Record<string, Platform> = {};
    if (previous && previous.topic !== topic) {
      // The prefix (or base topic) changed: the device under the old topic goes.
      await ctx.publish(previous.topic, "", true);
    } else if (previous) {
      removed = Object.fromEntries(
        Object.entries(previous.components).filter(([key]) => !(key in payload.components)),
      );
    }
    const removals = Object.keys(removed);
    if (!force && removals.length === 0 && previous?.topic === topic && previous.payload === text) return;
    const sent = removals.length > 0 ? JSON.stringify(withRemovals(payload, removed)) : text;
    await ctx.publish(topic, sent, true);
    await store.save({ topic, components: platformsOf(payload), payload: text });
    const what = removals.length > 0 ? `, removed ${removals.join(", ")}` : "";
    ctx.logger.info(
      `Home Assistant discovery published on ${topic} (${Object.keys(payload.components).length} entities${what})`,
      { component: "homeassistant" },
    );
  }

  /** Discovery switched off: take back what an earlier run published. */
  private async withdraw(): Promise<void> {
    const ctx = this.context;
    const previous = await this.store?.load();
    if (!ctx || !previous) return;
    await ctx.publish(previous.topic, "", true);
    await this.store?.clear();
    ctx.logger.info(`Home Assistant discovery is off: cleared ${previous.topic}`, {
      component: "homeassistant",
    });
  }

  private input(ctx: AgentContext): DiscoveryInput {
    const info = ctx.info();
    return {
      topics: ctx.topics,
      pduId: ctx.settings.pdu.id,
      deviceName: ctx.settings.pdu.name,
      outlets: info.outlets,
      firmwareVersion: info.firmware.version,
      hardwareKind: info.firmware.hardware,
      agentVersion: info.agent.version,
      voltageSource: info.mains.voltageSource,
      coldStartPolicy: ctx.coldStartPolicy,
      configurationUrl: this.options.configurationUrl ?? null,
      supportUrl: SUPPORT_URL,
    };
  }
}

/** origin.support_url: the package's homepage, when package.json names one. */
const SUPPORT_URL: string | null = (() => {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as {
      homepage?: unknown;
    };
    return typeof pkg.homepage === "string" && /^https?:\/\//.test(pkg.homepage) ? pkg.homepage : null;
  } catch {
    return null;
  }
})();

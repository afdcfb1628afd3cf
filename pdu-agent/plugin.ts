// Extensions of the pdu-agent (Home Assistant discovery, ...) see the agent through this context only:
// the agent's public face for other parts, not its internals.
import type { MqttClient } from "mqtt";
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/logger.ts";
import type { InfoPayload } from "../protocol/payloads.ts";
import type { Topics } from "../protocol/topics.ts";

export interface AgentContext {
  client: MqttClient;
  /**
   * Publish as the agent (QoS 1); rejects when it fails. Plugins publish through this, not the client, so a
   * stopping agent never waits for a broker that has gone away.
   */
  publish(topic: string, payload: string, retain: boolean): Promise<void>;
  topics: Topics;
  settings: Settings;
  logger: Logger;
  startedAt: number;
  info(): InfoPayload;
  /** The hardware keeps a cold-start policy per outlet (the power_on_behavior topics exist). */
  coldStartPolicy: boolean;
  isOnline(): boolean;
  /** Publish availability, info and every value again, as after a reconnect. */
  republish(): Promise<void>;
  /** An unexpected exception: logged with its stack and counted on diagnostics, never thrown further. */
  reportError(where: string, err: unknown): void;
}

export interface AgentPlugin {
  readonly name: string;
  /** Called once the agent is connected; subscribe here. */
  start(context: AgentContext): Promise<void>;
  /** Called on every (re)connect, beside the agent's own announcement (which never waits for it). */
  announce?(): Promise<void>;
  stop(): Promise<void>;
}

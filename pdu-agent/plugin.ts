// Extensions of the pdu-agent (Home Assistant discovery, ...) see the agent through this context only.
import type { MqttClient } from "mqtt";
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/logger.ts";
import type { InfoPayload, TelemetryPayload } from "../protocol/payloads.ts";
import type { Topics } from "../protocol/topics.ts";
import type { HardwareInfo, OutletController } from "./hardware/outlet-controller.ts";
import type { LinkCounters } from "./hardware/register-client.ts";

export interface AgentContext {
  client: MqttClient;
  topics: Topics;
  settings: Settings;
  logger: Logger;
  controller: OutletController;
  startedAt: number;
  info(): InfoPayload;
  telemetry(): TelemetryPayload;
  hardware(): HardwareInfo | null;
  linkCounters(): LinkCounters;
  isOnline(): boolean;
  /** Publish availability, info and every value again, as after a reconnect. */
  republish(): Promise<void>;
  /** Run a hardware change through the PDU's one command queue, in order with every other command. */
  enqueue<T>(task: () => Promise<T>): Promise<T>;
}

export interface AgentPlugin {
  readonly name: string;
  /** Called once the agent is connected; subscribe here. */
  start(context: AgentContext): Promise<void>;
  /** Called on every (re)connect, before availability and values are published. */
  announce?(): Promise<void>;
  /** Called after every hardware poll with the fresh snapshot. */
  polled?(telemetry: TelemetryPayload): void;
  stop(): Promise<void>;
}

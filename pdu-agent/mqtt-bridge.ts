// The pdu-agent's MQTT side: takes `set` messages, publishes results, states, readings, telemetry, info and
// availability. Retained commands are never acted on; every command, valid or not, gets exactly one result.
import type { IPublishPacket, MqttClient } from "mqtt";
import { parseCommand, type CommandLimits } from "../protocol/commands.ts";
import { parsePduCommand, type PduCommand } from "../protocol/pdu-commands.ts";
import {
  OFFLINE,
  ONLINE,
  type InfoPayload,
  type ResultPayload,
  type TelemetryPayload,
} from "../protocol/payloads.ts";
import type { OutletMetric, Topics } from "../protocol/topics.ts";
import type { Logger } from "../log/logger.ts";
import type { CommandExecutor } from "./command-executor.ts";

export interface BridgeDeps {
  client: MqttClient;
  topics: Topics;
  pduId: string;
  limits: () => CommandLimits;
  executor: CommandExecutor;
  /** PDU-wide commands on `<base>/<pdu>/set`. */
  pduCommand?: (command: PduCommand) => Promise<ResultPayload>;
  logger: Logger;
}

export class MqttBridge {
  private inFlight = 0;
  private readonly onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
    void this.handle(topic, payload, packet);
  };

  constructor(private readonly deps: BridgeDeps) {}

  async start(): Promise<void> {
    const { client, topics, pduId } = this.deps;
    client.on("message", this.onMessage);
    // MQTT 5: retain-as-published lets us see (and refuse) a retained command even when it arrives live.
    const v5 = client.options.protocolVersion === 5;
    const options = v5 ? { qos: 1 as const, rap: true } : { qos: 1 as const };
    const filters = [topics.setFilter(pduId), topics.pduSet(pduId)];
    await client.subscribeAsync(filters, options).catch((err: unknown) => {
      throw new Error(
        `the broker refused the command subscriptions ${filters.join(", ")} (${(err as Error).message}); check its ACL`,
      );
    });
  }

  stop(): void {
    this.deps.client.removeListener("message", this.onMessage);
  }

  get commandsInFlight(): number {
    return this.inFlight;
  }

  publishAvailability(online: boolean): Promise<unknown> {
    return this.publish(this.deps.topics.availability(this.deps.pduId), online ? ONLINE : OFFLINE, true);
  }

  publishOutlet(outlet: number, metric: OutletMetric, value: string): Promise<unknown> {
    return this.publish(this.deps.topics.outlet(this.deps.pduId, outlet, metric), value, true);
  }

  publishTelemetry(telemetry: TelemetryPayload): Promise<unknown> {
    return this.publish(this.deps.topics.telemetry(this.deps.pduId), JSON.stringify(telemetry), false, 0);
  }

  publishInfo(info: InfoPayload): Promise<unknown> {
    return this.publish(this.deps.topics.info(this.deps.pduId), JSON.stringify(info), true);
  }

  publishJson(topic: string, value: unknown, retain: boolean): Promise<unknown> {
    return this.publish(topic, JSON.stringify(value), retain);
  }

  publishRaw(topic: string, payload: string, retain: boolean): Promise<unknown> {
    return this.publish(topic, payload, retain);
  }

  private async handle(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const parsed = this.deps.topics.parse(topic);
    if ((parsed?.kind !== "set" && parsed?.kind !== "pdu-set") || parsed.pdu !== this.deps.pduId) return;
    // An empty payload is how MQTT deletes a retained message (we send one below); it is not a command.
    if (payload.length === 0) return;
    this.inFlight++;
    try {
      const source = sourceOf(packet);
      let result: ResultPayload;
      if (packet.retain) {
        result = {
          outlet: null,
          command: null,
          status: "error",
          error: {
            code: "retained_command",
            message: `retained message on ${topic} ignored: commands must not be retained; it has been cleared`,
          },
        };
        await this.publish(topic, "", true);
      } else {
        const command =
          parsed.kind === "set" ? parseCommand(parsed.outlet, payload, this.deps.limits()) : null;
        if (command === null) {
          result = await this.handlePduCommand(payload);
        } else if (command.ok) {
          result = await this.deps.executor.execute(command.command);
        } else {
          result = {
            outlet: command.outlet,
            command: command.action ?? null,
            status: "error",
            error: command.error,
          };
          if (command.transaction !== undefined) result.transaction = command.transaction;
        }
      }
      this.log(result, source);
      await this.sendResult(result, packet);
    } catch (err) {
      this.deps.logger.error(`command on ${topic} failed unexpectedly: ${(err as Error).message}`, {
        component: "mqtt",
      });
    } finally {
      this.inFlight--;
    }
  }

  private async handlePduCommand(payload: Buffer): Promise<ResultPayload> {
    const parsed = parsePduCommand(payload, this.deps.limits().outletCount);
    if (!parsed.ok) {
      const result: ResultPayload = { outlet: null, command: null, status: "error", error: parsed.error };
      if (parsed.transaction !== undefined) result.transaction = parsed.transaction;
      return result;
    }
    if (!this.deps.pduCommand) {
      return {
        outlet: null,
        command: parsed.command.action,
        status: "error",
        error: { code: "invalid_payload", message: "PDU-wide commands are not available" },
      };
    }
    return this.deps.pduCommand(parsed.command);
  }

  /** A result that no MQTT request asked for (overload shedding). */
  publishResult(result: ResultPayload, request?: IPublishPacket): Promise<void> {
    return this.sendResult(result, request);
  }

  private async sendResult(result: ResultPayload, request?: IPublishPacket): Promise<void> {
    const text = JSON.stringify(result);
    const publishes = [this.publish(this.deps.topics.result(this.deps.pduId), text, false)];
    const responseTopic = request?.properties?.responseTopic;
    if (typeof responseTopic === "string" && responseTopic.length > 0 && !/[#+]/.test(responseTopic)) {
      const correlationData = request?.properties?.correlationData;
      publishes.push(
        this.deps.client.publishAsync(responseTopic, text, {
          qos: 1,
          ...(correlationData ? { properties: { correlationData } } : {}),
        }),
      );
    }
    await Promise.all(publishes);
  }

  private publish(topic: string, payload: string, retain: boolean, qos: 0 | 1 = 1): Promise<unknown> {
    return this.deps.client.publishAsync(topic, payload, { qos, retain }).catch((err: unknown) => {
      this.deps.logger.warn(`publish to ${topic} failed: ${(err as Error).message}`, { component: "mqtt" });
    });
  }

  private log(result: ResultPayload, source: string): void {
    const what = `outlet ${result.outlet ?? "?"} ${result.command ?? "command"} from ${source}`;
    const tx = result.transaction !== undefined ? ` tx=${String(result.transaction)}` : "";
    if (result.status === "ok")
      this.deps.logger.info(`${what}: ok, ${result.state ?? ""}${tx}`, { component: "command" });
    else
      this.deps.logger.warn(
        `${what}: ${result.error?.code ?? "error"}: ${result.error?.message ?? ""}${tx}`,
        { component: "command" },
      );
  }
}

/** Clients may name themselves in an MQTT 5 user property "source" (the panel, the gateway do). */
function sourceOf(packet: IPublishPacket): string {
  const source = packet.properties?.userProperties?.["source"];
  const text = Array.isArray(source) ? source[0] : source;
  return typeof text === "string" && /^[\w .:@/-]{1,64}$/.test(text) ? `mqtt (${text})` : "mqtt";
}

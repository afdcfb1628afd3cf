// The one path every command topic takes (`outlet/<n>/set`, `<pdu>/set`, `outlet/<n>/power_on_behavior/set`,
// and any added later): the rules are enforced here once — a retained command is never acted on, every
// command gets exactly one result, the MQTT 5 response goes only under `<base>/response/` — and the command
// is dispatched to the one handler of its kind, which returns a typed result. The source of every command
// is carried into the log and the result.
import type { IPublishPacket } from "mqtt";
import type { Logger } from "../log/logger.ts";
import type { ResultPayload } from "../protocol/payloads.ts";
import type { ErrorSink } from "./error-sink.ts";
import type { Feature } from "./feature.ts";
import type { Publisher } from "./publisher.ts";

export interface CommandHandler<M = unknown> {
  readonly kind: string;
  /** Subscription filters of this kind's topics. */
  filters(): string[];
  /** The topic parsed for this handler, or null when it is not one of its topics. */
  match(topic: string): M | null;
  /** The outlet and command a refusal names (retained command, internal error). */
  describe(match: M): Pick<ResultPayload, "outlet" | "command">;
  handle(match: M, payload: Buffer, source: string): Promise<ResultPayload>;
}

const SOURCE_PATTERN = /^[\x20-\x7e]{1,64}$/;

/** Who sent it: the `source` user property, else the client id the broker stamped, else mqtt (README: Source). */
export function sourceOf(packet: IPublishPacket): string {
  const props = packet.properties?.userProperties ?? {};
  const first = (name: string): string | undefined => {
    const value = props[name];
    const text = Array.isArray(value) ? value[0] : value;
    return typeof text === "string" && SOURCE_PATTERN.test(text) ? text : undefined;
  };
  const source = first("source");
  if (source !== undefined) return source;
  const clientId = first("client_id");
  return clientId !== undefined ? `mqtt ${clientId}` : "mqtt";
}

export interface RouterDeps {
  publisher: Publisher;
  logger: Logger;
  errors: ErrorSink;
  handlers: CommandHandler[];
}

export class CommandRouter implements Feature {
  readonly name = "commands";
  private inFlight = 0;
  private droppedCount = 0;
  private readonly onMessage: (topic: string, payload: Buffer, packet: IPublishPacket) => void;

  constructor(private readonly deps: RouterDeps) {
    this.onMessage = deps.errors.guard(
      "command handler",
      (topic: string, payload: Buffer, packet: IPublishPacket) => this.route(topic, payload, packet),
    );
  }

  /** Messages dropped (response topics outside the prefix). */
  get dropped(): number {
    return this.droppedCount;
  }

  get commandsInFlight(): number {
    return this.inFlight;
  }

  async start(): Promise<void> {
    const client = this.deps.publisher.client;
    if (!client) return;
    client.on("message", this.onMessage);
    await this.resubscribe();
  }

  async resubscribe(): Promise<void> {
    const client = this.deps.publisher.client;
    if (!client) return;
    // MQTT 5: retain-as-published lets us see (and refuse) a retained command even when it arrives live.
    const v5 = client.options.protocolVersion === 5;
    const options = v5 ? { qos: 1 as const, rap: true } : { qos: 1 as const };
    const filters = this.deps.handlers.flatMap((h) => h.filters());
    await client.subscribeAsync(filters, options).catch((err: unknown) => {
      throw new Error(
        `the broker refused the command subscriptions ${filters.join(", ")} (${(err as Error).message}); check its ACL`,
      );
    });
  }

  stop(): Promise<void> {
    this.deps.publisher.client?.removeListener("message", this.onMessage);
    return Promise.resolve();
  }

  /** A result no MQTT request asked for (overload shedding). */
  publishResult(result: ResultPayload): Promise<void> {
    return this.send(result);
  }

  private async route(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    for (const handler of this.deps.handlers) {
      const match = handler.match(topic);
      if (match === null) continue;
      // An empty payload is how MQTT deletes a retained message (we send one below); it is not a command.
      if (payload.length === 0) return;
      await this.run(handler, match, topic, payload, packet);
      return;
    }
  }

  private async run(
    handler: CommandHandler,
    match: unknown,
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
  ): Promise<void> {
    this.inFlight++;
    const source = sourceOf(packet);
    let result: ResultPayload;
    try {
      if (packet.retain) {
        result = {
          ...handler.describe(match),
          status: "error",
          error: {
            code: "retained_command",
            message: `retained message on ${topic} ignored: commands must not be retained; it has been cleared`,
          },
        };
        await this.deps.publisher.publish(topic, "", true);
      } else {
        result = await handler.handle(match, payload, source);
      }
    } catch (err) {
      this.deps.errors.report(`${handler.kind} command on ${topic}`, err);
      result = {
        ...handler.describe(match),
        status: "error",
        error: { code: "internal_error", message: "the command failed unexpectedly; see the agent's log" },
      };
    } finally {
      this.inFlight--;
    }
    result.source = source;
    this.log(result, source);
    await this.send(result, packet);
  }

  private async send(result: ResultPayload, request?: IPublishPacket): Promise<void> {
    const { publisher } = this.deps;
    const text = JSON.stringify(result);
    const publishes = [publisher.publish(publisher.topics.result(publisher.pduId), text, false)];
    const responseTopic = request?.properties?.responseTopic;
    if (typeof responseTopic === "string" && responseTopic.length > 0) {
      if (publisher.topics.isResponseTopic(responseTopic)) {
        const correlationData = request?.properties?.correlationData;
        publishes.push(
          publisher.publish(responseTopic, text, false, 1, correlationData ? { correlationData } : undefined),
        );
      } else {
        if (this.droppedCount === 0)
          this.deps.logger.warn(
            `response topic "${responseTopic.slice(0, 80).replace(/[^\x20-\x7e]/g, "?")}" ignored: responses go only under ${publisher.topics.responsePrefix()} (further ones are counted on diagnostics)`,
            { component: "command" },
          );
        this.droppedCount++;
      }
    }
    await Promise.all(publishes);
  }

  private log(result: ResultPayload, source: string): void {
    const what = `outlet ${result.outlet ?? "-"} ${result.command ?? "command"} from ${source}`;
    const tx = result.transaction !== undefined ? ` tx=${String(result.transaction)}` : "";
    if (result.status === "ok") {
      const state = result.state ?? result.power_on_behavior ?? "";
      const skipped = result.skipped ? `, skipped ${Object.keys(result.skipped).join(", ")}` : "";
      this.deps.logger.info(`${what}: ok${state ? `, ${state}` : ""}${skipped}${tx}`, {
        component: "command",
      });
    } else
      this.deps.logger.warn(
        `${what}: ${result.error?.code ?? "error"}: ${result.error?.message ?? ""}${tx}`,
        { component: "command" },
      );
  }
}

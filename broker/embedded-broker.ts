// The embedded MQTT broker for standalone setups: Aedes behind TCP and WebSocket
// listeners, retained messages kept under the state directory.
import type { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Aedes, type AedesPublishPacket, type Client } from "aedes";
import type { Logger } from "../log/logger.ts";
import { listenTcp, listenWebSocket, type Listener } from "./listeners.ts";
import { RetainedStore, type RetainedMessage } from "./retained-store.ts";

export interface BrokerOptions {
  host: string;
  /** 0 picks a free port; start() reports the one chosen. */
  port: number;
  /** null: no WebSocket listener. 0 picks a free port. */
  wsPort: number | null;
  /** Where retained messages are kept; null keeps them in memory only. */
  stateDir: string | null;
  logger: Logger;
  /** Debounce for retained-store writes (ms). Default 200. */
  retainedFlushDelayMs?: number;
}

export interface BrokerAddress {
  port: number;
  wsPort: number | null;
}

// MQTT 5 properties that belong to the message (and so to its retained copy), as
// opposed to one hop of it (topic alias, subscription identifier).
const MESSAGE_PROPERTIES = [
  "payloadFormatIndicator",
  "messageExpiryInterval",
  "contentType",
  "responseTopic",
  "correlationData",
  "userProperties",
];

export class EmbeddedBroker {
  readonly #options: BrokerOptions;
  readonly #logger: Logger;
  #aedes: Aedes | null = null;
  #store: RetainedStore | null = null;
  #listeners: Listener[] = [];

  constructor(options: BrokerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "broker" });
  }

  async start(): Promise<BrokerAddress> {
    if (this.#aedes !== null) throw new Error("broker already started");
    const { host, port, wsPort, stateDir } = this.#options;
    const store =
      stateDir === null
        ? null
        : new RetainedStore({
            stateDir,
            logger: this.#logger,
            flushDelayMs: this.#options.retainedFlushDelayMs ?? 200,
          });
    const retained = store === null ? [] : await store.load();

    const aedes = await Aedes.createBroker({
      published: (packet, _client, done) => {
        if (packet.retain && store !== null && !packet.topic.startsWith("$SYS/"))
          store.record(toRetained(packet));
        done(null);
      },
    });
    this.#aedes = aedes;
    this.#store = store;
    this.#watch(aedes);
    for (const message of retained) await restore(aedes, message);

    try {
      const onError = (error: Error): void => {
        this.#logger.error("listener error", { error: error.message });
      };
      const accept = (stream: Duplex, _remote: string | undefined, request?: IncomingMessage): void => {
        aedes.handle(stream, request);
      };
      const tcp = await listenTcp(host, port, accept, onError);
      this.#listeners.push(tcp);
      const ws = wsPort === null ? null : await listenWebSocket(host, wsPort, accept, onError);
      if (ws !== null) this.#listeners.push(ws);
      this.#logger.info("broker listening", {
        host,
        port: tcp.port,
        wsPort: ws?.port ?? null,
        retained: retained.length,
        persistent: store !== null,
      });
      return { port: tcp.port, wsPort: ws?.port ?? null };
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops accepting, disconnects every client (no wills: this is a clean broker shutdown), writes retained messages. */
  async stop(): Promise<void> {
    const aedes = this.#aedes;
    if (aedes === null) return;
    this.#aedes = null;
    const listeners = this.#listeners.splice(0);
    const closing = listeners.map((listener) => listener.close());
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(closing);
    await this.#store?.flush();
    this.#store = null;
    this.#logger.info("broker stopped");
  }

  #watch(aedes: Aedes): void {
    // Aedes emits "error" for persistence failures; unhandled, it would end the process.
    (aedes as EventEmitter).on("error", (error: Error) =>
      this.#logger.error("broker error", { error: error.message }),
    );
    aedes.on("clientError", (client: Client, error: Error) =>
      this.#logger.warn("client error", { clientId: client.id, error: error.message }),
    );
    aedes.on("connectionError", (client: Client, error: Error) =>
      this.#logger.warn("connection refused", { clientId: client.id, error: error.message }),
    );
    aedes.on("clientReady", (client: Client) =>
      this.#logger.debug("client connected", { clientId: client.id, protocolVersion: client.version }),
    );
    aedes.on("clientDisconnect", (client: Client) =>
      this.#logger.debug("client disconnected", { clientId: client.id }),
    );
  }
}

function toRetained(packet: AedesPublishPacket): RetainedMessage {
  const message: RetainedMessage = {
    topic: packet.topic,
    payload: Buffer.from(packet.payload),
    qos: packet.qos,
    storedAt: Date.now(),
  };
  const properties = packet.properties as Record<string, unknown> | undefined;
  if (properties !== undefined) {
    const kept = Object.fromEntries(
      MESSAGE_PROPERTIES.filter((key) => properties[key] !== undefined).map((key) => [key, properties[key]]),
    );
    if (Object.keys(kept).length > 0) message.properties = kept;
  }
  return message;
}

// Re-publishing through the broker fills its retained store exactly as a client would.
// An MQTT 5 message expiry keeps counting from when the message was first stored.
function restore(aedes: Aedes, message: RetainedMessage): Promise<void> {
  const properties = message.properties === undefined ? undefined : { ...message.properties };
  const expiry = properties?.messageExpiryInterval;
  if (properties !== undefined && typeof expiry === "number") {
    const left = expiry - Math.floor((Date.now() - message.storedAt) / 1000);
    if (left <= 0) return Promise.resolve();
    properties.messageExpiryInterval = left;
  }
  return new Promise((resolve, reject) => {
    aedes.publish(
      {
        cmd: "publish",
        topic: message.topic,
        payload: message.payload,
        qos: message.qos,
        retain: true,
        dup: false,
        ...(properties === undefined ? {} : { properties }),
      },
      (error) => (error ? reject(error) : resolve()),
    );
  });
}

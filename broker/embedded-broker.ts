// The embedded MQTT broker for standalone setups: Aedes behind TCP, WebSocket and TLS
// listeners, retained messages kept under the state directory, Mosquitto-style users and ACLs.
// Aedes 1.x speaks MQTT 3.1.1 only; an MQTT 5 CONNECT is refused with "unacceptable protocol
// version" and clients fall back to 3.1.1. (2.0.0-beta.1 speaks 5 but lacks 1.x security fixes.)
import type { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { readFile } from "node:fs/promises";
import { Aedes, type AedesPublishPacket, type Client } from "aedes";
import { duplexPair } from "../lib/in-process-stream.ts";
import type { Logger } from "../log/logger.ts";
import { AccessControl, IN_PROCESS } from "./access-control.ts";
import { Acl } from "./acl.ts";
import { listenTcp, listenTls, listenWebSocket, type Listener } from "./listeners.ts";
import { loadPasswordFile } from "./password-file.ts";
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
  /** Mosquitto-style password file; clients giving a user name must match an entry. */
  passwordFile?: string | null;
  /** Mosquitto-style ACL file; without one every admitted client may read and write every topic. */
  aclFile?: string | null;
  /** Admit clients without a (verified) user name from any address, not only loopback. Default false. */
  allowAnonymous?: boolean;
  /** A TLS listener on the same host; port 0 picks a free port. */
  tls?: { port: number; certFile: string; keyFile: string } | null;
}

export interface BrokerAddress {
  port: number;
  wsPort: number | null;
  tlsPort?: number | null;
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
  #accept: ((stream: Duplex, remote: string | undefined) => void) | null = null;

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
    const access = await this.#loadAccessControl();
    const tlsFiles = await this.#loadTlsFiles();

    const aedes = await Aedes.createBroker({
      ...access.hooks(),
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
      const accept = (stream: Duplex, remote: string | undefined, request?: IncomingMessage): void => {
        access.track(aedes.handle(stream, request), remote);
      };
      this.#accept = accept;
      const tcp = await listenTcp(host, port, accept, onError);
      this.#listeners.push(tcp);
      const ws = wsPort === null ? null : await listenWebSocket(host, wsPort, accept, onError);
      if (ws !== null) this.#listeners.push(ws);
      const tls = tlsFiles === null ? null : await listenTls(host, tlsFiles.port, tlsFiles, accept, onError);
      if (tls !== null) this.#listeners.push(tls);
      const address = { port: tcp.port, wsPort: ws?.port ?? null, tlsPort: tls?.port ?? null };
      this.#logger.info("broker listening", {
        host,
        ...address,
        retained: retained.length,
        persistent: store !== null,
      });
      return address;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** A client connection from this process: an in-memory stream, no socket (lib/in-process-stream.ts). */
  connectInProcess(): Duplex {
    const accept = this.#accept;
    if (accept === null) throw new Error("broker not started");
    const [client, server] = duplexPair();
    accept(server, IN_PROCESS);
    return client;
  }

  /** Stops accepting, disconnects every client (no wills: this is a clean broker shutdown), writes retained messages. */
  async stop(): Promise<void> {
    const aedes = this.#aedes;
    if (aedes === null) return;
    this.#aedes = null;
    this.#accept = null;
    const listeners = this.#listeners.splice(0);
    const closing = listeners.map((listener) => listener.close());
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(closing);
    await this.#store?.flush();
    this.#store = null;
    this.#logger.info("broker stopped");
  }

  async #loadAccessControl(): Promise<AccessControl> {
    const { passwordFile = null, aclFile = null, allowAnonymous = false } = this.#options;
    const passwords = passwordFile === null ? null : await loadPasswordFile(passwordFile);
    const acl = aclFile === null ? null : Acl.parse(await readFile(aclFile, "utf8"), aclFile);
    return new AccessControl({ passwords, acl, allowAnonymous }, this.#logger);
  }

  async #loadTlsFiles(): Promise<{ port: number; cert: Buffer; key: Buffer } | null> {
    const tls = this.#options.tls ?? null;
    if (tls === null) return null;
    return { port: tls.port, cert: await readFile(tls.certFile), key: await readFile(tls.keyFile) };
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

// The embedded MQTT broker for standalone setups: Aedes behind TCP, WebSocket and TLS
// listeners, retained messages kept under the state directory, Mosquitto-style users and ACLs.
// Aedes 2.0.0-beta.1 (pinned exactly) speaks MQTT 5 and 3.1.1; patches/ carries the fixes of Aedes
// 1.1.2–1.2.0 it lacks (prototype-named keys, clean-session QoS 2 store, maxInflightInbound).
import type { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { readFile } from "node:fs/promises";
import { Aedes, type AedesPublishPacket, type Client } from "aedes";
import { streamPair } from "../lib/stream-pair.ts";
import type { Logger } from "../log/logger.ts";
import { AccessControl, isLoopbackAddress } from "./access-control.ts";
import { Acl } from "./acl.ts";
import {
  ConnectionCaps,
  DEFAULT_CONNECTION_CAPS,
  DEFAULT_PRE_AUTH,
  guardPreAuth,
  type ConnectionCapOptions,
  type PreAuthLimits,
} from "./connection-limits.ts";
import { listenTcp, listenTls, listenWebSocket, type Listener, type Peer } from "./listeners.ts";
import { PartPolicy, type PartPolicyOptions } from "./part-policy.ts";
import { loadPasswordFile } from "./password-file.ts";
import { DEFAULT_RETAINED_LIMITS, RetainedBudget } from "./retained-budget.ts";
import { RetainedStore, type RetainedMessage } from "./retained-store.ts";

export interface BrokerOptions {
  host: string;
  /** 0 picks a free port; start() reports the one chosen. */
  port: number;
  /** null: no WebSocket listener. 0 picks a free port. */
  wsPort: number | null;
  /** Browser origins (e.g. "https://ha.example") allowed on the WebSocket listener; "*" for any. Default none. */
  wsOrigins?: readonly string[];
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
  /**
   * The built-in policy (only piPDU's parts speak for a PDU). Enforced by `pipdu start`, and by a split
   * broker that names its part users; without it every admitted client may publish anything the ACL allows.
   */
  parts?: Partial<PartPolicyOptions> | null;
  /** Largest packet (bytes, on the wire) an authenticated client may send. Default 256 KiB. */
  maximumPacketSize?: number;
  /** Caps on what is retained (only piPDU's topics and discovery are). Default 64 KiB a message, 8 MiB, 20,000 topics. */
  retained?: Partial<typeof DEFAULT_RETAINED_LIMITS>;
  /** Further topic trees to retain (first levels such as "zigbee2mqtt"; "#" for every topic), within the same caps. */
  retainTopics?: readonly string[];
  /** What an unauthenticated client may send. Default: packets of 8 KiB, 32 KiB in all. */
  preAuth?: PreAuthLimits;
  /** Open connections in total and per non-loopback address. Default 1024 and 32. */
  connections?: ConnectionCapOptions;
}

/** Discovery for 16 outlets is ~20 kB; nothing piPDU publishes comes near this. */
export const DEFAULT_MAXIMUM_PACKET_SIZE = 256 * 1024;
/** MQTT 5 topic aliases a client may use towards the broker (Mosquitto's default too). */
const TOPIC_ALIAS_MAXIMUM = 10;

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
  #access: AccessControl | null = null;
  readonly #refusals: RefusalLog;

  constructor(options: BrokerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "broker" });
    this.#refusals = new RefusalLog(this.#logger);
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
    const budget = new RetainedBudget({
      trees: [
        this.#options.parts?.baseTopic ?? "pipdu",
        this.#options.parts?.discoveryPrefix ?? "homeassistant",
        ...(this.#options.retainTopics ?? []),
      ],
      ...DEFAULT_RETAINED_LIMITS,
      ...this.#options.retained,
    });
    const hooks = access.hooks();

    const aedes = await Aedes.createBroker({
      ...hooks,
      authorizePublish: (client, packet, done) => {
        hooks.authorizePublish?.(client, packet, (error) => {
          if (!error && packet.retain && client !== null) {
            const refused = budget.admit(packet.topic, packet.payload.length);
            if (refused !== null) {
              packet.retain = false; // delivered live, not kept
              this.#refusals.note(undefined, `retained ${packet.topic} not kept: ${refused}`, "retained");
            }
          }
          done(error);
        });
      },
      maximumPacketSize: this.#options.maximumPacketSize ?? DEFAULT_MAXIMUM_PACKET_SIZE,
      topicAliasMaximum: TOPIC_ALIAS_MAXIMUM,
      published: (packet, _client, done) => {
        if (packet.retain && store !== null && !packet.topic.startsWith("$SYS/"))
          store.record(toRetained(packet));
        done(null);
      },
    });
    assertPatched(aedes);
    this.#aedes = aedes;
    this.#access = access;
    this.#store = store;
    this.#watch(aedes);
    for (const message of retained) {
      const refused = budget.admit(message.topic, message.payload.length);
      if (refused === null) await restore(aedes, message);
      else store?.delete(message.topic);
    }

    try {
      const onError = (error: Error): void => {
        this.#logger.error("listener error", { error: error.message });
      };
      const caps = new ConnectionCaps(this.#options.connections ?? DEFAULT_CONNECTION_CAPS);
      const preAuth = this.#options.preAuth ?? DEFAULT_PRE_AUTH;
      const accept = (stream: Duplex, peer: Peer): void => {
        // Behind a WebSocket, loopback proves nothing (a local browser, a proxy): no anonymous trust.
        const trusted = peer.transport !== "ws" && isLoopbackAddress(peer.address);
        const admitted = caps.admit(peer.address, trusted);
        if (typeof admitted === "string") {
          this.#refusals.note(peer.address, admitted);
          stream.destroy();
          return;
        }
        stream.once("close", admitted.release);
        const guard = guardPreAuth(stream, preAuth, (reason) => this.#refusals.note(peer.address, reason));
        const client = aedes.handle(stream, peer.request);
        access.track(client, peer.transport === "ws" ? undefined : peer.address, {
          onAuthenticated: () => guard.authenticated(),
        });
      };
      const tcp = await listenTcp(host, port, accept, onError);
      this.#listeners.push(tcp);
      const ws =
        wsPort === null
          ? null
          : await listenWebSocket(host, wsPort, accept, onError, this.#options.wsOrigins ?? []);
      if (ws !== null) this.#listeners.push(ws);
      const tls = tlsFiles === null ? null : await listenTls(host, tlsFiles.port, tlsFiles, accept, onError);
      if (tls !== null) this.#listeners.push(tls);
      const address = { port: tcp.port, wsPort: ws?.port ?? null, tlsPort: tls?.port ?? null };
      this.#logger.info("broker listening", {
        host,
        ...address,
        retained: budget.usage.messages,
        persistent: store !== null,
      });
      return address;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Writes of the retained store that reached the disk (diagnostics: a burst costs one write, not one per message). */
  get retainedWrites(): number {
    return this.#store?.writeCount ?? 0;
  }

  /**
   * A connection from inside this process (no socket): the identity of piPDU's own parts, which no network
   * client can claim. Give it to `connectMqtt({ stream })`; each call is a new connection.
   */
  connectInProcess(): Duplex {
    const aedes = this.#aedes;
    const access = this.#access;
    if (aedes === null || access === null) throw new Error("broker not started");
    const [part, broker] = streamPair();
    // The two ends are separate streams: one closing (a DISCONNECT, a broker stop) closes the other,
    // as a socket's close reaches both peers.
    broker.once("close", () => part.destroy());
    part.once("close", () => broker.destroy());
    access.track(aedes.handle(broker), undefined, { inProcess: true });
    return part;
  }

  /** Stops accepting, disconnects every client (no wills: this is a clean broker shutdown), writes retained messages. */
  async stop(): Promise<void> {
    const aedes = this.#aedes;
    if (aedes === null) return;
    this.#aedes = null;
    this.#access = null;
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
    const parts = new PartPolicy({
      enforce: false,
      baseTopic: "pipdu",
      discoveryPrefix: "homeassistant",
      haStatusTopic: "homeassistant/status",
      partUsers: [],
      reservedClientIds: [],
      ...this.#options.parts,
    });
    return new AccessControl({ passwords, acl, allowAnonymous, parts }, this.#logger);
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

/** Connections dropped, retained messages not kept: logged, but at most once a minute per kind under a flood. */
class RefusalLog {
  readonly #logger: Logger;
  readonly #last = new Map<string, { at: number; since: number }>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  note(remote: string | undefined, reason: string, kind: "connection" | "retained" = "connection"): void {
    const last = this.#last.get(kind) ?? { at: 0, since: 0 };
    last.since++;
    this.#last.set(kind, last);
    const now = Date.now();
    if (now - last.at < 60_000) return;
    const message = kind === "connection" ? "connection dropped" : "retained message not kept";
    this.#logger.warn(message, { remote: remote ?? null, reason, sinceLastLog: last.since });
    last.at = now;
    last.since = 0;
  }
}

/** Refuses to run an Aedes without the fixes in patches/ (an install that skipped `patch-package`). */
function assertPatched(aedes: Aedes): void {
  const fields = aedes as unknown as { clients: object; maxInflightInbound?: unknown };
  if (Object.getPrototypeOf(fields.clients) !== null || typeof fields.maxInflightInbound !== "number") {
    aedes.close();
    throw Object.assign(
      new Error("aedes is installed without piPDU's fixes: run `npx patch-package` (npm ci does it)"),
      { code: "BROKER_UNPATCHED" },
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

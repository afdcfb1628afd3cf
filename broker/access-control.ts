// Who may connect, publish, subscribe and receive: the Aedes hooks, fed by the password
// file, the ACL file and the peer address. Anonymous clients are let in from loopback only
// unless allowAnonymous is set, as Mosquitto 2 does.
import type { AedesOptions, AuthenticateError, Client, PublishPacket, Subscription } from "aedes";
import { generate } from "mqtt-packet";
import type { Logger } from "../log/logger.ts";
import type { Acl, AclIdentity } from "./acl.ts";
import type { PartPolicy } from "./part-policy.ts";
import { verifyPassword, type PasswordTable } from "./password-file.ts";

export interface AccessPolicy {
  passwords: PasswordTable | null;
  acl: Acl | null;
  allowAnonymous: boolean;
  parts: PartPolicy;
}

// CONNACK return codes (MQTT 3.1.1 table 3.1)
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function refusal(message: string, returnCode: number): AuthenticateError {
  const error = new Error(message) as AuthenticateError;
  (error as { returnCode: number }).returnCode = returnCode;
  return error;
}

/** Where publishes denied by the ACL go: a $ topic no client may subscribe to and no wildcard matches. */
const DENIED = "$pipdu-denied/";

export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && !/[#+\u0000\uFFFD]/.test(topic);
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. An unknown address is not loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === "::1";
}

export class AccessControl {
  readonly #policy: AccessPolicy;
  readonly #logger: Logger;
  readonly #remote = new WeakMap<Client, string | undefined>();
  readonly #identity = new WeakMap<Client, AclIdentity>();
  readonly #inProcess = new WeakSet<Client>();
  readonly #parts = new WeakSet<Client>();
  readonly #onAuthenticated = new WeakMap<Client, () => void>();

  constructor(policy: AccessPolicy, logger: Logger) {
    this.#policy = policy;
    this.#logger = logger;
  }

  /**
   * Remember where a connection came from, before its CONNECT is read. `remoteAddress` is what the address
   * is worth (undefined where it proves nothing, as behind a WebSocket); in-process connections are
   * piPDU's parts; `onAuthenticated` runs once the client is admitted.
   */
  track(
    client: Client,
    remoteAddress: string | undefined,
    options: { inProcess?: boolean; onAuthenticated?: () => void } = {},
  ): void {
    this.#remote.set(client, remoteAddress);
    if (options.inProcess === true) this.#inProcess.add(client);
    if (options.onAuthenticated !== undefined) this.#onAuthenticated.set(client, options.onAuthenticated);
  }

  /** Is this connection one of piPDU's own parts (in-process, or a part user)? */
  isPart(client: Client): boolean {
    return this.#parts.has(client);
  }

  /** The Aedes handler options that enforce this policy. */
  hooks(): Pick<
    AedesOptions,
    "authenticate" | "authorizePublish" | "authorizeSubscribe" | "authorizeForward"
  > {
    return {
      authenticate: (client, username, password, done) => {
        this.#authenticate(client, username, password).then(
          (refused) => {
            if (refused !== null) return done(refused, false);
            this.#onAuthenticated.get(client)?.();
            done(null, true);
          },
          (error: unknown) => done(refusal(String(error), NOT_AUTHORIZED), false),
        );
      },
      authorizePublish: (client, packet, done) => {
        // [MQTT-3.3.2-2] no wildcards in a topic name; [MQTT-1.5.3-2] no U+0000, and malformed UTF-8
        // (decoded as U+FFFD) closes the connection, as Mosquitto does.
        if (client !== null && !isValidTopicName(packet.topic))
          return done(new Error("malformed topic name"));
        if (packet.topic.startsWith("$SYS/") || packet.topic.startsWith(DENIED)) {
          return done(new Error("$ topics are reserved"));
        }
        if (client === null) return done(null);
        const { parts } = this.#policy;
        const part = this.#parts.has(client);
        if (parts.isCommand(packet.topic)) stampClientId(packet, client.id);
        if (!part && parts.isPartsOnly(packet.topic)) {
          this.#logger.warn("publish on a topic only piPDU's parts may use, dropped", {
            clientId: client.id,
            topic: packet.topic,
          });
          packet.topic = `${DENIED}${packet.topic}`;
          packet.retain = false;
          return done(null);
        }
        if (this.#mayPublish(client, packet)) return done(null);
        // Denied by the ACL: acknowledged and dropped, as Mosquitto does (MQTT 3.1.1 has no reason code).
        // Aedes can only refuse by disconnecting, so the message is moved where nobody can receive it.
        this.#logger.warn("publish denied by ACL, dropped", { clientId: client.id, topic: packet.topic });
        packet.topic = `${DENIED}${packet.topic}`;
        packet.retain = false;
        done(null);
      },
      authorizeSubscribe: (client, subscription, done) => {
        const reserved = subscription.topic.startsWith(DENIED);
        done(null, !reserved && this.#maySubscribe(client, subscription) ? subscription : null);
      },
      authorizeForward: (client, packet) => {
        if (packet.topic.startsWith(DENIED)) return null;
        if (tooLargeFor(client, packet)) return null;
        const acl = this.#policy.acl;
        return acl === null || acl.canRead(this.#identityOf(client), packet.topic) ? packet : null;
      },
    };
  }

  /** null when the client may connect, else the refusal Aedes turns into a CONNACK code. */
  async #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<AuthenticateError | null> {
    const remote = this.#remote.get(client);
    const { passwords, allowAnonymous } = this.#policy;
    const refuse = (returnCode: number, reason: string): AuthenticateError => {
      this.#logger.warn("connection refused", {
        clientId: client.id,
        username: username ?? null,
        remote: remote ?? null,
        reason,
      });
      return refusal(reason, returnCode);
    };
    const { parts } = this.#policy;
    if (this.#inProcess.has(client)) {
      this.#parts.add(client);
      parts.reserve(client.id);
      this.#identity.set(client, { username: username ?? null, clientId: client.id });
      return null;
    }
    if (username !== undefined && passwords !== null) {
      const stored = passwords.get(username);
      // Verify even for an unknown user so a refusal takes the same time either way.
      const ok = await verifyPassword(stored ?? DUMMY_HASH, password ?? Buffer.alloc(0));
      if (stored === undefined || password === undefined || !ok)
        return refuse(BAD_USERNAME_OR_PASSWORD, "bad user name or password");
      if (parts.isPartUser(username)) {
        this.#parts.add(client);
        parts.reserve(client.id);
      } else if (!parts.mayUseClientId(client.id)) {
        return refuse(IDENTIFIER_REJECTED, "this client id belongs to a piPDU part");
      }
      this.#identity.set(client, { username, clientId: client.id });
      return null;
    }
    if (!parts.mayUseClientId(client.id)) {
      return refuse(IDENTIFIER_REJECTED, "this client id belongs to a piPDU part");
    }
    // No verified user name: an anonymous client, whatever name it gave.
    if (!allowAnonymous && !isLoopbackAddress(remote)) {
      return refuse(
        NOT_AUTHORIZED,
        "anonymous clients are accepted from loopback only (set broker.allowAnonymous or use a password file)",
      );
    }
    this.#identity.set(client, { username: null, clientId: client.id });
    return null;
  }

  #mayPublish(client: Client, packet: PublishPacket): boolean {
    const acl = this.#policy.acl;
    if (acl === null || acl.canPublish(this.#identityOf(client), packet.topic)) return true;
    this.#logger.warn("publish denied", { clientId: client.id, topic: packet.topic });
    return false;
  }

  #maySubscribe(client: Client, subscription: Subscription): boolean {
    const acl = this.#policy.acl;
    if (acl === null || acl.canSubscribe(this.#identityOf(client), subscription.topic)) return true;
    this.#logger.warn("subscribe denied", { clientId: client.id, topic: subscription.topic });
    return false;
  }

  #identityOf(client: Client): AclIdentity {
    return this.#identity.get(client) ?? { username: null, clientId: client.id };
  }
}

/**
 * The publisher's client id as user property `client_id` on every command, replacing any the
 * publisher set, so the agent can name who sent it and nobody can pose as someone else.
 */
function stampClientId(packet: PublishPacket, clientId: string): void {
  const properties = packet.properties ?? {};
  const userProperties = { ...properties.userProperties, client_id: clientId };
  packet.properties = { ...properties, userProperties };
}

/**
 * [MQTT-3.1.2-24] A message larger than the Maximum Packet Size the MQTT 5 client announced is not sent
 * to it (Aedes stores that size without enforcing it).
 */
function tooLargeFor(client: Client, packet: PublishPacket): boolean {
  const max = (client as { maximumPacketSize?: number }).maximumPacketSize;
  if (max === undefined || client.version !== 5) return false;
  if (packet.payload.length + Buffer.byteLength(packet.topic) < max - 1024) return false; // clearly fits
  return generate({ ...packet, messageId: 1 }, { protocolVersion: 5 }).length > max;
}

// A well-formed $7$ hash of a random password: only used to spend the same time on unknown users.
const DUMMY_HASH = "$7$10000$AAAAAAAAAAAAAAAA$" + Buffer.alloc(64).toString("base64");

// Who may connect, publish, subscribe and receive: the Aedes hooks, fed by the password
// file, the ACL file and the peer address. Anonymous clients are let in from loopback only
// unless allowAnonymous is set, as Mosquitto 2 does.
import type { AedesOptions, AuthenticateError, Client, PublishPacket, Subscription } from "aedes";
import type { Logger } from "../log/logger.ts";
import type { Acl, AclIdentity } from "./acl.ts";
import { verifyPassword, type PasswordTable } from "./password-file.ts";

export interface AccessPolicy {
  passwords: PasswordTable | null;
  acl: Acl | null;
  allowAnonymous: boolean;
}

// CONNACK return codes (MQTT 3.1.1 table 3.1)
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

/** The remote address of a part of this process connected over an in-memory stream (no socket). */
export const IN_PROCESS = "in-process";

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms, and this process itself. An unknown address is not loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === IN_PROCESS) return true;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === "::1";
}

export class AccessControl {
  readonly #policy: AccessPolicy;
  readonly #logger: Logger;
  readonly #remote = new WeakMap<Client, string | undefined>();
  readonly #identity = new WeakMap<Client, AclIdentity>();

  constructor(policy: AccessPolicy, logger: Logger) {
    this.#policy = policy;
    this.#logger = logger;
  }

  /** Remember where a connection came from, before its CONNECT is read. */
  track(client: Client, remoteAddress: string | undefined): void {
    this.#remote.set(client, remoteAddress);
  }

  /** The Aedes handler options that enforce this policy. */
  hooks(): Pick<
    AedesOptions,
    "authenticate" | "authorizePublish" | "authorizeSubscribe" | "authorizeForward"
  > {
    return {
      authenticate: (client, username, password, done) => {
        this.#authenticate(client, username, password).then(
          (refused) => (refused === null ? done(null, true) : done(refused, false)),
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
        if (client === null || this.#mayPublish(client, packet)) return done(null);
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
    if (username !== undefined && passwords !== null) {
      const stored = passwords.get(username);
      // Verify even for an unknown user so a refusal takes the same time either way.
      const ok = await verifyPassword(stored ?? DUMMY_HASH, password ?? Buffer.alloc(0));
      if (stored === undefined || password === undefined || !ok)
        return refuse(BAD_USERNAME_OR_PASSWORD, "bad user name or password");
      this.#identity.set(client, { username, clientId: client.id });
      return null;
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

// A well-formed $7$ hash of a random password: only used to spend the same time on unknown users.
const DUMMY_HASH = "$7$10000$AAAAAAAAAAAAAAAA$" + Buffer.alloc(64).toString("base64");

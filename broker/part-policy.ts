// The built-in policy that holds even without an ACL file: only piPDU's own parts speak for a PDU.
// A part is a connection made inside the broker's process (no socket), or, in split layouts, a client
// that authenticated as a user named in broker.partUsers.
//   - `<base>/<pdu>/…` topics other than command topics (`…/set`), `<base>/response/#` and Home Assistant
//     discovery topics (`<prefix>/…` except `<prefix>/status`, Home Assistant's own birth message)
//     may be published by parts only;
//   - a client id a part uses (and the agents' `pipdu-<pdu>`) cannot be taken by any other client.

export interface PartPolicyOptions {
  /** Enforce the policy (`pipdu start`, or a split-layout broker that names its part users). */
  enforce: boolean;
  baseTopic: string;
  discoveryPrefix: string;
  /** Home Assistant's birth message topic: Home Assistant publishes it, so it stays open. */
  haStatusTopic: string;
  /** Users (from the password file) that are piPDU parts. */
  partUsers: readonly string[];
  /** Client ids reserved for parts from the start (the agents' ids). */
  reservedClientIds: readonly string[];
}

/** Command topics anyone (the ACL permitting) may publish: `<base>/<pdu>/set`, `…/outlet/<n>/set`, `…/outlet/<n>/power_on_behavior/set`. */
export function isCommandTopic(levels: readonly string[]): boolean {
  const [, , a, n, b, c] = levels;
  if (levels.length === 3) return a === "set";
  if (a !== "outlet" || n === undefined || !/^\d+$/.test(n)) return false;
  if (levels.length === 5) return b === "set";
  return levels.length === 6 && b === "power_on_behavior" && c === "set";
}

export class PartPolicy {
  readonly #options: PartPolicyOptions;
  readonly #partUsers: ReadonlySet<string>;
  readonly #reserved: Set<string>;

  constructor(options: PartPolicyOptions) {
    this.#options = options;
    this.#partUsers = new Set(options.partUsers);
    this.#reserved = new Set(options.reservedClientIds);
  }

  get enforced(): boolean {
    return this.#options.enforce;
  }

  isPartUser(username: string | null): boolean {
    return username !== null && this.#partUsers.has(username);
  }

  /** A part connected with this id: from now on no other client may use it. */
  reserve(clientId: string): void {
    if (this.#options.enforce) this.#reserved.add(clientId);
  }

  /** May a client that is not a part connect with this id? */
  mayUseClientId(clientId: string): boolean {
    return !this.#options.enforce || !this.#reserved.has(clientId);
  }

  /** May only parts publish on this topic? */
  isPartsOnly(topic: string): boolean {
    if (!this.#options.enforce) return false;
    const { baseTopic, discoveryPrefix, haStatusTopic } = this.#options;
    if (topic.startsWith(`${discoveryPrefix}/`))
      return topic !== `${discoveryPrefix}/status` && topic !== haStatusTopic;
    const levels = topic.split("/");
    if (levels[0] !== baseTopic || levels.length < 3) return false;
    return levels[1] === "response" || !isCommandTopic(levels);
  }

  /** Where the embedded broker stamps the publisher's client id (the `client_id` user property the agent reports as the command's source). */
  isCommand(topic: string): boolean {
    const levels = topic.split("/");
    return levels[0] === this.#options.baseTopic && levels[1] !== "response" && isCommandTopic(levels);
  }
}

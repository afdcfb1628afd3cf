// Access control lists in Mosquitto's acl_file syntax:
//   topic [read|write|readwrite|deny] <topic>     before any `user` line: anonymous clients
//   user <name>                                   the `topic` lines after it are that user's
//   pattern [read|write|readwrite|deny] <topic>   every client; %u = user name, %c = client id
// With an ACL file, what no line grants is denied; a matching `deny` line wins over grants.

export class AclFileError extends Error {
  readonly code = "ACL_FILE_INVALID";
}

type Access = "read" | "write" | "readwrite" | "deny";

interface Rule {
  access: Access;
  levels: string[];
  /** `pattern` rules have %u / %c substituted per client. */
  pattern: boolean;
}

/** Who is asking: `username` is null for an anonymous client (or one whose name was not verified). */
export interface AclIdentity {
  username: string | null;
  clientId: string;
}

export class Acl {
  readonly #anonymous: Rule[];
  readonly #users: ReadonlyMap<string, Rule[]>;
  readonly #patterns: Rule[];

  private constructor(anonymous: Rule[], users: Map<string, Rule[]>, patterns: Rule[]) {
    this.#anonymous = anonymous;
    this.#users = users;
    this.#patterns = patterns;
  }

  static parse(text: string, fileName = "ACL file"): Acl {
    const anonymous: Rule[] = [];
    const users = new Map<string, Rule[]>();
    const patterns: Rule[] = [];
    let current = anonymous;
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const fail = (what: string): never => {
        throw new AclFileError(`${fileName} line ${index + 1}: ${what}: ${JSON.stringify(raw)}`);
      };
      const [keyword = "", ...rest] = line.split(/\s+/);
      if (keyword === "user") {
        const name = line.slice(keyword.length).trim();
        if (name === "") fail("user needs a name");
        current = users.get(name) ?? [];
        users.set(name, current);
        return;
      }
      if (keyword !== "topic" && keyword !== "pattern") fail("expected user, topic or pattern");
      const accessWord = rest[0] ?? "";
      const explicit = ["read", "write", "readwrite", "deny"].includes(accessWord);
      const topic = explicit
        ? line.slice(line.indexOf(accessWord, keyword.length) + accessWord.length).trim()
        : line.slice(keyword.length).trim();
      if (topic === "") fail("missing topic");
      if (!isValidFilter(topic)) fail("# may only be a whole last level and + a whole level");
      const rule: Rule = {
        access: explicit ? (accessWord as Access) : "readwrite",
        levels: topic.split("/"),
        pattern: keyword === "pattern",
      };
      (keyword === "pattern" ? patterns : current).push(rule);
    });
    return new Acl(anonymous, users, patterns);
  }

  /** May this client publish to `topic` (a topic name, no wildcards)? */
  canPublish(identity: AclIdentity, topic: string): boolean {
    return this.#decide(identity, (levels) => filterMatchesTopic(levels, topic.split("/")), "write");
  }

  /** May this client receive a message published on `topic`? */
  canRead(identity: AclIdentity, topic: string): boolean {
    return this.#decide(identity, (levels) => filterMatchesTopic(levels, topic.split("/")), "read");
  }

  /** May this client subscribe to `filter`? Only if a read rule covers every topic the filter can match. */
  canSubscribe(identity: AclIdentity, filter: string): boolean {
    return this.#decide(identity, (levels) => filterCovers(levels, filter.split("/")), "read");
  }

  #decide(identity: AclIdentity, matches: (levels: string[]) => boolean, wanted: "read" | "write"): boolean {
    const own = identity.username === null ? this.#anonymous : (this.#users.get(identity.username) ?? []);
    const patterns = this.#patterns.flatMap((rule) => {
      const levels = substitute(rule.levels, identity);
      return levels === null ? [] : [{ ...rule, levels }];
    });
    const rules = [...own, ...patterns].filter((rule) => matches(rule.levels));
    if (rules.some((rule) => rule.access === "deny")) return false;
    return rules.some((rule) => rule.access === wanted || rule.access === "readwrite");
  }
}

// A name that could widen a pattern (wildcards, extra levels) or that is missing makes the pattern not apply.
function substitute(levels: string[], identity: AclIdentity): string[] | null {
  const unsafe = (value: string | null): boolean => value === null || value === "" || /[+#/]/.test(value);
  const out: string[] = [];
  for (const level of levels) {
    if (level.includes("%u") && unsafe(identity.username)) return null;
    if (level.includes("%c") && unsafe(identity.clientId)) return null;
    out.push(level.replaceAll("%u", identity.username ?? "").replaceAll("%c", identity.clientId));
  }
  return out;
}

function isValidFilter(filter: string): boolean {
  const levels = filter.split("/");
  return levels.every((level, i) =>
    level.includes("#") ? level === "#" && i === levels.length - 1 : !level.includes("+") || level === "+",
  );
}

/** MQTT topic matching: does filter `f` match topic `t`? [MQTT-4.7.1] */
export function filterMatchesTopic(f: readonly string[], t: readonly string[]): boolean {
  // Wildcards at the first level do not match topics starting with $ [MQTT-4.7.2-1].
  if ((f[0] === "#" || f[0] === "+") && t[0]?.startsWith("$")) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true; // also matches the parent level [MQTT-4.7.1-2]
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Does rule filter `r` match every topic that subscription filter `s` can match? */
export function filterCovers(r: readonly string[], s: readonly string[]): boolean {
  if ((r[0] === "#" || r[0] === "+") && s[0]?.startsWith("$")) return false;
  for (let i = 0; i < r.length; i++) {
    if (r[i] === "#") return true;
    if (i >= s.length) return false;
    if (s[i] === "#") return false;
    if (r[i] === "+") continue;
    if (s[i] === "+" || r[i] !== s[i]) return false;
  }
  return r.length === s.length;
}

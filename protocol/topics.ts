// The MQTT topic tree: the only place topic strings are spelled (README "Topic reference").

export const DEFAULT_BASE = "pipdu";
export const PDU_ID_PATTERN = /^[a-z0-9_-]+$/;

export type OutletMetric = "state" | "power" | "current" | "energy";
export type TotalMetric = "power" | "current" | "energy";

/** The level under the base where MQTT 5 responses go (`<base>/response/<client id>/…`): never a PDU id. */
export const RESPONSE_LEVEL = "response";

export function isValidPduId(id: string): boolean {
  return PDU_ID_PATTERN.test(id) && id.length <= 64 && id !== RESPONSE_LEVEL;
}

/** A base topic may have several levels ("lab/pipdu") but no wildcards and no empty levels. */
export function isValidBase(base: string): boolean {
  return base.length > 0 && !/[#+\0]/.test(base) && base.split("/").every((level) => level.length > 0);
}

export class Topics {
  constructor(readonly base: string = DEFAULT_BASE) {}

  pdu(pdu: string): string {
    return `${this.base}/${pdu}`;
  }
  availability(pdu: string): string {
    return `${this.pdu(pdu)}/availability`;
  }
  outlet(pdu: string, n: number, metric: OutletMetric): string {
    return `${this.pdu(pdu)}/outlet/${n}/${metric}`;
  }
  set(pdu: string, n: number): string {
    return `${this.pdu(pdu)}/outlet/${n}/set`;
  }
  result(pdu: string): string {
    return `${this.pdu(pdu)}/result`;
  }
  telemetry(pdu: string): string {
    return `${this.pdu(pdu)}/telemetry`;
  }
  info(pdu: string): string {
    return `${this.pdu(pdu)}/info`;
  }

  /** The PDU's sum over its outlets: W, A, kWh (never decreasing); retained. */
  total(pdu: string, metric: TotalMetric): string {
    return `${this.pdu(pdu)}/total/${metric}`;
  }
  /** JSON: link error counters and the agent's start time; retained. */
  diagnostics(pdu: string): string {
    return `${this.pdu(pdu)}/diagnostics`;
  }
  /** The outlet's cold-start policy, `off` / `on` / `last`; retained. */
  powerOnBehavior(pdu: string, n: number): string {
    return `${this.pdu(pdu)}/outlet/${n}/power_on_behavior`;
  }
  /** Set the cold-start policy: `off`, `on` or `last` (any case); never acted on if retained. */
  powerOnBehaviorSet(pdu: string, n: number): string {
    return `${this.powerOnBehavior(pdu, n)}/set`;
  }
  powerOnBehaviorSetFilter(pdu: string): string {
    return `${this.pdu(pdu)}/outlet/+/power_on_behavior/set`;
  }
  /** The raw outlet level of a power_on_behavior/set topic of this PDU, or null for any other topic. */
  parsePowerOnBehaviorSet(pdu: string, topic: string): string | null {
    const prefix = `${this.pdu(pdu)}/outlet/`;
    const suffix = "/power_on_behavior/set";
    if (!topic.startsWith(prefix) || !topic.endsWith(suffix)) return null;
    const outlet = topic.slice(prefix.length, topic.length - suffix.length);
    return outlet.length > 0 && !outlet.includes("/") ? outlet : null;
  }

  /** PDU-wide commands (JSON): all_on (staggered), all_off, cancel a pending action; never acted on if retained. */
  pduSet(pdu: string): string {
    return `${this.pdu(pdu)}/set`;
  }
  /** JSON list of pending actions (delayed commands, staggered starts); retained. */
  pending(pdu: string): string {
    return `${this.pdu(pdu)}/pending`;
  }
  /** JSON overload alarm: {"active":…,"current":…,"limit":…,"since":…,"outlets":[…],"shed":[…]}; retained. */
  alarm(pdu: string): string {
    return `${this.pdu(pdu)}/alarm`;
  }
  /** `none`, `dead_load` (on but no current) or `welded_relay` (off but current); retained. */
  fault(pdu: string, n: number): string {
    return `${this.pdu(pdu)}/outlet/${n}/fault`;
  }

  /** MQTT 5 responses for one requester: `<base>/response/<client id>/<rest>`; only piPDU parts publish here. */
  response(clientId: string, rest: string): string {
    return `${this.base}/${RESPONSE_LEVEL}/${clientId}/${rest}`;
  }
  responseFilter(clientId: string): string {
    return `${this.base}/${RESPONSE_LEVEL}/${clientId}/#`;
  }

  /**
   * The only prefix under which the agent honours an MQTT 5 response topic:
   * `<base>/response/<requester client id>/<anything>`. Any other response topic is ignored.
   */
  responsePrefix(): string {
    return `${this.base}/${RESPONSE_LEVEL}/`;
  }
  isResponseTopic(topic: string): boolean {
    const prefix = this.responsePrefix();
    return topic.startsWith(prefix) && topic.length > prefix.length && !/[#+\0]/.test(topic);
  }

  /** What the pdu-agent subscribes to for commands: every outlet's set topic, numbers parsed later. */
  setFilter(pdu: string): string {
    return `${this.pdu(pdu)}/outlet/+/set`;
  }
  /**
   * What a client of every PDU (panel, gateway) subscribes to: the outlet readings by name, not
   * `outlet/+/+`, which would also deliver every command (`set`) sent to any PDU, the client's own included.
   */
  allPdusFilter(): string[] {
    return [
      `${this.base}/+/availability`,
      `${this.base}/+/info`,
      ...(["state", "power", "current", "energy"] as const).map((leaf) => `${this.base}/+/outlet/+/${leaf}`),
      `${this.base}/+/result`,
      `${this.base}/+/diagnostics`,
    ];
  }

  /** What a client following pending actions, alarms, faults and the agent's heartbeat subscribes to. */
  activityFilter(): string[] {
    return [this.pending("+"), this.alarm("+"), this.telemetry("+"), `${this.base}/+/outlet/+/fault`];
  }
  /** Parse a topic of activityFilter(); null for any other. The outlet level is kept raw. */
  parseActivity(topic: string): ActivityTopic | null {
    const prefix = `${this.base}/`;
    if (!topic.startsWith(prefix)) return null;
    const parts = topic.slice(prefix.length).split("/");
    const [pdu, kind, outlet, leaf] = parts;
    if (pdu === undefined || !isValidPduId(pdu)) return null;
    if (parts.length === 2 && (kind === "pending" || kind === "alarm" || kind === "telemetry"))
      return { pdu, kind };
    if (parts.length === 4 && kind === "outlet" && outlet !== undefined && leaf === "fault")
      return { pdu, kind: "fault", outlet };
    return null;
  }

  /** Parse any topic under the base; null for topics outside the tree. The outlet level is kept raw. */
  parse(topic: string): ParsedTopic | null {
    const prefix = `${this.base}/`;
    if (!topic.startsWith(prefix)) return null;
    const parts = topic.slice(prefix.length).split("/");
    const [pdu, kind, outlet, metric, last] = parts;
    if (pdu === undefined || kind === undefined || !isValidPduId(pdu)) return null;
    if (parts.length === 2) {
      if ((PDU_KINDS as readonly string[]).includes(kind)) return { pdu, kind: kind as PduKind };
      if (kind === "set") return { pdu, kind: "pdu-set" };
      return null;
    }
    if (parts.length === 3 && kind === "total") {
      if (metric === undefined && (outlet === "power" || outlet === "current" || outlet === "energy"))
        return { pdu, kind: "total", metric: outlet };
      return null;
    }
    // The outlet level is kept raw, even empty: a command on `…/outlet//set` still gets its error result.
    if (kind !== "outlet" || outlet === undefined) return null;
    if (parts.length === 4) {
      if (metric === "set") return { pdu, kind: "set", outlet };
      if (metric === "state" || metric === "power" || metric === "current" || metric === "energy") {
        return { pdu, kind: "metric", outlet, metric };
      }
      if (metric === "fault" || metric === "power_on_behavior") return { pdu, kind: metric, outlet };
    }
    if (parts.length === 5 && metric === "power_on_behavior" && last === "set")
      return { pdu, kind: "power_on_behavior-set", outlet };
    return null;
  }
}

const PDU_KINDS = ["availability", "result", "telemetry", "info", "diagnostics", "pending", "alarm"] as const;
type PduKind = (typeof PDU_KINDS)[number];

export type ParsedTopic =
  | { pdu: string; kind: PduKind | "pdu-set" }
  | { pdu: string; kind: "set" | "fault" | "power_on_behavior" | "power_on_behavior-set"; outlet: string }
  | { pdu: string; kind: "metric"; outlet: string; metric: OutletMetric }
  | { pdu: string; kind: "total"; metric: TotalMetric };

export type ActivityTopic =
  { pdu: string; kind: "pending" | "alarm" | "telemetry" } | { pdu: string; kind: "fault"; outlet: string };

/** Home Assistant device-based discovery: one retained config per PDU (the prefix defaults to `homeassistant`). */
export function haDeviceDiscoveryTopic(prefix: string, objectId: string): string {
  return `${prefix}/device/${objectId}/config`;
}
export const HA_DEFAULT_STATUS_TOPIC = "homeassistant/status";

/** Outlet numbers as printed on the box: 1-based decimal, leading zeros allowed ("08"). */
export function parseOutletNumber(raw: string, outletCount: number): number | null {
  if (!/^[0-9]{1,3}$/.test(raw)) return null;
  const n = Number.parseInt(raw, 10);
  return n >= 1 && n <= outletCount ? n : null;
}

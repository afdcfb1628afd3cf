// What happens on each PDU beyond its readings: pending actions (delayed commands, the "on" of running cycles,
// staggered starts), the overload alarm, outlet faults, and whether the agent is still heard (its telemetry
// arrives every poll; a PDU silent for several of its intervals is stale even while it is retained "online").
// Also whether this client's own link to the broker is up. Every payload is checked; bad ones are ignored.
import { EventEmitter } from "node:events";
import type { MqttClient } from "mqtt";
import type { Topics } from "../protocol/topics.ts";

export interface PendingActionView {
  id: number;
  outlet: number;
  action: string;
  /** ms since the epoch; null when the firmware decides (cold start). */
  dueAt: number | null;
  source: string;
}

export interface AlarmView {
  active: boolean;
  current: number | null;
  limit: number | null;
  since: number | null;
  outlets: number[];
  shed: number[];
}

export type FaultView = "dead_load" | "welded_relay";

export interface ActivityJson {
  /** Readings are current: the broker link is up and the agent was heard lately (or never sent telemetry). */
  stale: boolean;
  pending: PendingActionView[];
  alarm: AlarmView | null;
  /** Outlets with a fault, by number. */
  faults: Record<string, FaultView>;
}

interface PduActivityState {
  pending: PendingActionView[];
  alarm: AlarmView | null;
  faults: Map<number, FaultView>;
  heardAt: number | null;
  /** Typical time between telemetry messages, ms. */
  interval: number;
  stale: boolean;
}

export interface ActivityEvents {
  change: [pdu: string];
  link: [up: boolean];
}

const MIN_SILENCE_MS = 4000;
const SILENT_INTERVALS = 5;

export class PduActivity extends EventEmitter<ActivityEvents> {
  private readonly pdus = new Map<string, PduActivityState>();
  private timer: NodeJS.Timeout | null = null;
  private linkUp: boolean;
  private readonly onMessage = (topic: string, payload: Buffer): void => this.handle(topic, payload);
  private readonly onConnect = (): void => this.setLink(true);
  private readonly onClose = (): void => this.setLink(false);

  constructor(
    private readonly client: MqttClient,
    private readonly topics: Topics,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.linkUp = client.connected;
  }

  async start(): Promise<void> {
    this.client.on("message", this.onMessage);
    this.client.on("connect", this.onConnect);
    this.client.on("close", this.onClose);
    this.timer = setInterval(() => this.checkSilence(), 1000);
    await this.client.subscribeAsync(this.topics.activityFilter(), { qos: 0 });
  }

  stop(): void {
    this.client.off("message", this.onMessage);
    this.client.off("connect", this.onConnect);
    this.client.off("close", this.onClose);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** This client's link to the broker. */
  get link(): boolean {
    return this.linkUp;
  }

  /** True when a PDU's values are current as far as this client can tell. */
  live(pdu: string): boolean {
    return this.linkUp && !(this.pdus.get(pdu)?.stale ?? false);
  }

  json(pdu: string): ActivityJson {
    const state = this.pdus.get(pdu);
    return {
      stale: !this.live(pdu),
      pending: state?.pending ?? [],
      alarm: state?.alarm ?? null,
      faults: Object.fromEntries(state?.faults ?? []),
    };
  }

  pending(pdu: string): PendingActionView[] {
    return this.pdus.get(pdu)?.pending ?? [];
  }

  /** Marks PDUs silent for too long as stale (runs every second). */
  checkSilence(): void {
    const now = this.now();
    for (const [id, state] of this.pdus) {
      if (state.heardAt === null || state.stale) continue;
      if (now - state.heardAt > Math.max(MIN_SILENCE_MS, SILENT_INTERVALS * state.interval)) {
        state.stale = true;
        this.emit("change", id);
      }
    }
  }

  private setLink(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    this.emit("link", up);
    for (const id of this.pdus.keys()) this.emit("change", id);
  }

  private state(pdu: string): PduActivityState {
    let state = this.pdus.get(pdu);
    if (!state) {
      state = { pending: [], alarm: null, faults: new Map(), heardAt: null, interval: 1000, stale: false };
      this.pdus.set(pdu, state);
    }
    return state;
  }

  private handle(topic: string, payload: Buffer): void {
    const parsed = this.topics.parseActivity(topic);
    if (!parsed || payload.length > 65536) return;
    const state = this.state(parsed.pdu);
    if (parsed.kind === "telemetry") {
      const now = this.now();
      if (state.heardAt !== null) {
        const gap = Math.min(60_000, Math.max(50, now - state.heardAt));
        state.interval = state.interval * 0.8 + gap * 0.2;
      }
      state.heardAt = now;
      if (state.stale) {
        state.stale = false;
        this.emit("change", parsed.pdu);
      }
      return;
    }
    const text = payload.toString("utf8");
    if (parsed.kind === "fault") {
      const n = Number(parsed.outlet);
      if (!Number.isInteger(n) || n < 1 || n > 64) return;
      if (text === "dead_load" || text === "welded_relay") state.faults.set(n, text);
      else if (text === "none" || text === "") state.faults.delete(n);
      else return;
    } else if (parsed.kind === "pending") {
      const value = parseJson(text);
      if (text !== "" && !Array.isArray(value)) return;
      state.pending = Array.isArray(value) ? value.flatMap(pendingAction) : [];
    } else {
      const value = text === "" ? null : alarm(parseJson(text));
      if (text !== "" && value === null) return;
      state.alarm = value;
    }
    this.emit("change", parsed.pdu);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

function finite(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function pendingAction(v: unknown): PendingActionView[] {
  if (typeof v !== "object" || v === null) return [];
  const o = v as Record<string, unknown>;
  if (!isCount(o["id"]) || !isCount(o["outlet"]) || typeof o["action"] !== "string") return [];
  const action = o["action"].slice(0, 16);
  const source = typeof o["source"] === "string" ? o["source"].slice(0, 32) : "command";
  return [{ id: o["id"], outlet: o["outlet"], action, dueAt: finite(o["dueAt"]), source }];
}

function alarm(v: unknown): AlarmView | null {
  if (typeof v !== "object" || v === null || typeof (v as { active?: unknown }).active !== "boolean")
    return null;
  const o = v as Record<string, unknown>;
  const list = (x: unknown): number[] => (Array.isArray(x) ? x.filter(isCount).slice(0, 64) : []);
  return {
    active: o["active"] as boolean,
    current: finite(o["current"]),
    limit: finite(o["limit"]),
    since: finite(o["since"]),
    outlets: list(o["outlets"]),
    shed: list(o["shed"]),
  };
}

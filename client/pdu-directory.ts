// The client side of the MQTT contract, for every part that is "just another MQTT client" (panel, gateway):
// a live view of every PDU on the bus, and commands that resolve with the agent's result.
// Every message is parsed by its topic's schema (protocol/messages.ts); what fails is dropped and counted.
// A PDU is listed only once it has published a valid `info`; readings that arrive before it are held for a
// bounded number of would-be PDUs, so junk under `<base>/<id>/…` cannot grow the directory.
// Results: with MQTT 5 a command carries a response topic under `<base>/response/<own client id>/` and random
// correlation data, and only a response there with that data answers it (a forged `<pdu>/result` cannot);
// with MQTT 3.1.1 the transaction id carries 122 random bits and the result must come on the PDU's own topic.
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import type { IPublishPacket, MqttClient } from "mqtt";
import type { Action } from "../protocol/commands.ts";
import type { Logger } from "../log/logger.ts";
import { MAX_OUTLETS, messageKindOf, parseMessage } from "../protocol/messages.ts";
import type { PduAction } from "../protocol/pdu-commands.ts";
import type { InfoPayload, OutletState, ResultPayload } from "../protocol/payloads.ts";
import { Topics } from "../protocol/topics.ts";
import { MessageGuard } from "../lib/message-guard.ts";

export interface OutletView {
  number: number;
  name: string;
  protected: boolean;
  state: OutletState | null;
  power: number | null;
  current: number | null;
  energy: number | null;
}

export interface PduView {
  id: string;
  name: string;
  online: boolean;
  info: InfoPayload | null;
  /** I2C link counters from `<base>/<pdu>/diagnostics`, once the agent has published them. */
  linkErrors: number | null;
  linkFailures: number | null;
  outlets: Map<number, OutletView>;
}

export interface CommandRequest {
  action: Action;
  delay?: number;
  force?: boolean;
}

export interface PduCommandRequest {
  action: PduAction;
  id?: number;
  outlet?: number;
  force?: boolean;
}

export class CommandTimeout extends Error {
  constructor(pdu: string, outlet: number | null) {
    const what = outlet === null ? "" : ` for outlet ${outlet}`;
    super(`no result from PDU "${pdu}"${what} in time (is its pdu-agent running?)`);
    this.name = "CommandTimeout";
  }
}

/** Listed PDUs (with a valid info) at most; a new PDU past this is dropped and counted. */
export const MAX_PDUS = 256;
/** Would-be PDUs (readings seen, no valid info yet) held at most; the oldest is forgotten first. */
export const MAX_UNLISTED = 32;

export interface DirectoryOptions {
  /** Names this client in transaction ids ("gateway", "panel-rack1"). */
  source: string;
  /** The MQTT 5 user property "source" of commands that name none (default: `source`). */
  commandSource?: string;
  logger?: Logger | null;
  /** Logged as this component ("gateway", "panel"). */
  component?: string;
}

export interface DirectoryEvents {
  change: [pdu: string];
  result: [pdu: string, result: ResultPayload];
}

export class PduDirectory extends EventEmitter<DirectoryEvents> {
  private readonly pdus = new Map<string, PduView>();
  /** Would-be PDUs: readings and availability seen before a valid info. Insertion order = age. */
  private readonly unlisted = new Map<string, PduView>();
  private readonly waiting = new Map<string, Waiter>();
  readonly guard: MessageGuard;
  private readonly source: string;
  private readonly commandSource: string;
  private readonly onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
    this.guard.guard("message", () => this.handle(topic, payload, packet));
  };

  constructor(
    private readonly client: MqttClient,
    private readonly topics: Topics,
    options: DirectoryOptions | string,
  ) {
    super();
    const o = typeof options === "string" ? { source: options } : options;
    this.source = o.source;
    this.commandSource = o.commandSource ?? o.source;
    this.guard = new MessageGuard(o.logger ?? null, o.component ?? "client");
  }

  private get v5(): boolean {
    return this.client.options.protocolVersion === 5;
  }

  private get responsePrefix(): string {
    return this.topics.response(this.client.options.clientId ?? "unknown", "");
  }

  async start(): Promise<void> {
    this.client.on("message", this.onMessage);
    const filters = this.topics.allPdusFilter();
    if (this.v5) filters.push(this.topics.responseFilter(this.client.options.clientId ?? "unknown"));
    await this.client.subscribeAsync(filters, { qos: 1 });
  }

  stop(): void {
    this.client.removeListener("message", this.onMessage);
    for (const waiter of this.waiting.values())
      waiter.resolve({
        outlet: null,
        command: null,
        status: "error",
        error: { code: "shutting_down", message: "client stopping" },
      });
    this.waiting.clear();
  }

  /** PDUs that have published a valid info, by id. */
  list(): PduView[] {
    return [...this.pdus.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): PduView | undefined {
    return this.pdus.get(id);
  }

  /** Send a command and resolve with the agent's result. Rejects with CommandTimeout.
   * `source` says who asked (`rest 10.0.0.5`), sent as the MQTT 5 user property the agent logs. */
  command(
    pdu: string,
    outlet: number,
    request: CommandRequest,
    timeoutMs?: number,
    source?: string,
  ): Promise<ResultPayload> {
    const info = this.pdus.get(pdu)?.info;
    const cycleDelay = request.delay ?? info?.limits.defaultCycleDelay ?? 5;
    const limit =
      timeoutMs ?? 15_000 + (request.action === "cycle" ? cycleDelay : (request.delay ?? 0)) * 1000;
    return this.send(pdu, outlet, this.topics.set(pdu, outlet), request, limit, source);
  }

  /** Send a PDU-wide command (all_on, all_off, cancel) and resolve with the agent's result. */
  pduCommand(
    pdu: string,
    command: PduCommandRequest,
    timeoutMs = 15_000,
    source?: string,
  ): Promise<ResultPayload> {
    return this.send(pdu, null, this.topics.pduSet(pdu), command, timeoutMs, source);
  }

  private send(
    pdu: string,
    outlet: number | null,
    topic: string,
    request: object,
    limit: number,
    source: string | undefined,
  ): Promise<ResultPayload> {
    // 122 random bits (a version 4 UUID, drawn from Node's cached entropy rather than a system call per
    // command): nobody who did not see the command can answer it.
    const key = randomUUID().replaceAll("-", "");
    const v5 = this.v5;
    const body = JSON.stringify({ ...request, transaction: `${this.source}-${key}` });
    return new Promise<ResultPayload>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new CommandTimeout(pdu, outlet));
      }, limit);
      this.waiting.set(key, {
        pdu,
        outlet,
        viaResponse: v5,
        resolve: (result) => {
          clearTimeout(timer);
          this.waiting.delete(key);
          resolve(result);
        },
      });
      const properties = {
        userProperties: { source: sourceText(source ?? this.commandSource) },
        responseTopic: `${this.responsePrefix}result`,
        correlationData: Buffer.from(key, "hex"),
      };
      this.client
        .publishAsync(topic, body, { qos: 1, ...(v5 ? { properties } : {}) })
        .catch((err: unknown) => {
          clearTimeout(timer);
          this.waiting.delete(key);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  }

  private handle(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (topic.startsWith(this.responsePrefix)) {
      this.response(payload, packet);
      return;
    }
    const parsed = this.topics.parse(topic);
    if (!parsed) return;
    const kind = messageKindOf(parsed);
    if (kind === null || kind === "telemetry") return; // commands are the agent's; telemetry is not needed here
    if (payload.length === 0 && kind !== "result") return; // a retained topic being cleared
    if (kind === "result") {
      const result = parseMessage("result", payload);
      if (!result.ok) return this.guard.drop("result", "invalid", `${printable(topic)}: ${result.reason}`);
      if (!this.pdus.has(parsed.pdu)) return;
      this.emit("result", parsed.pdu, result.value);
      if (this.v5) return; // commands are answered on the response topic only
      const tx = result.value.transaction;
      const key = typeof tx === "string" ? tx.slice(this.source.length + 1) : "";
      const waiter = this.waiting.get(key);
      if (waiter && typeof tx === "string" && tx.startsWith(`${this.source}-`)) {
        if (
          waiter.pdu !== parsed.pdu ||
          (waiter.outlet !== null && result.value.outlet !== null && result.value.outlet !== waiter.outlet)
        )
          return this.guard.drop(
            "result",
            "unsolicited",
            `${printable(topic)}: transaction of another outlet`,
          );
        waiter.resolve(result.value);
      }
      return;
    }
    if (kind === "info") {
      const info = parseMessage("info", payload);
      if (!info.ok) return this.guard.drop("info", "invalid", `${printable(topic)}: ${info.reason}`);
      if (info.value.pdu !== parsed.pdu)
        return this.guard.drop("info", "pdu_mismatch", `${printable(topic)} describes "${info.value.pdu}"`);
      const pdu = this.list_(parsed.pdu);
      if (!pdu) return this.guard.drop("info", "directory_full", `${MAX_PDUS} PDUs listed already`);
      this.applyInfo(pdu, info.value);
      this.emit("change", parsed.pdu);
      return;
    }
    const pdu = this.pdus.get(parsed.pdu) ?? this.hold(parsed.pdu);
    const listed = this.pdus.has(parsed.pdu);
    if (kind === "availability") {
      const value = parseMessage("availability", payload);
      if (!value.ok) return this.guard.drop(kind, "invalid", `${printable(topic)}: ${value.reason}`);
      pdu.online = value.value === "online";
    } else if (kind === "diagnostics") {
      const d = parseMessage("diagnostics", payload);
      if (!d.ok) return this.guard.drop(kind, "invalid", `${printable(topic)}: ${d.reason}`);
      if (d.value.linkErrors !== undefined) pdu.linkErrors = d.value.linkErrors;
      if (d.value.linkFailures !== undefined) pdu.linkFailures = d.value.linkFailures;
    } else if (
      parsed.kind === "metric" &&
      (kind === "state" || kind === "power" || kind === "current" || kind === "energy")
    ) {
      const n = Number.parseInt(parsed.outlet, 10);
      if (!/^[0-9]{1,3}$/.test(parsed.outlet) || n < 1 || n > MAX_OUTLETS) return;
      const view = listed ? pdu.outlets.get(n) : this.outlet(pdu, n);
      if (!view) return; // an outlet the agent's info does not list
      if (kind === "state") {
        const state = parseMessage("state", payload);
        if (!state.ok) return this.guard.drop(kind, "invalid", `${printable(topic)}: ${state.reason}`);
        view.state = state.value;
      } else {
        const value = parseMessage(kind, payload);
        if (!value.ok) return this.guard.drop(kind, "invalid", `${printable(topic)}: ${value.reason}`);
        view[kind] = value.value;
      }
    } else {
      return;
    }
    if (listed) this.emit("change", parsed.pdu);
  }

  /** An MQTT 5 response on our own response topic: answers the command whose correlation data it carries. */
  private response(payload: Buffer, packet: IPublishPacket): void {
    const data = packet.properties?.correlationData;
    const key = Buffer.isBuffer(data) ? data.toString("hex") : "";
    const waiter = this.waiting.get(key);
    if (!waiter?.viaResponse)
      return this.guard.drop("response", "unsolicited", "no command waits for this correlation data");
    const result = parseMessage("result", payload);
    if (!result.ok) return this.guard.drop("response", "invalid", result.reason);
    if (waiter.outlet !== null && result.value.outlet !== null && result.value.outlet !== waiter.outlet)
      return this.guard.drop("response", "unsolicited", "the response names another outlet");
    waiter.resolve(result.value);
  }

  /** The listed PDU `id`, listing it now if there is room; null when the directory is full. */
  private list_(id: string): PduView | null {
    const listed = this.pdus.get(id);
    if (listed) return listed;
    if (this.pdus.size >= MAX_PDUS) return null;
    const pdu = this.unlisted.get(id) ?? newView(id);
    this.unlisted.delete(id);
    this.pdus.set(id, pdu);
    return pdu;
  }

  /** A would-be PDU for readings that came before its info; the oldest is forgotten past MAX_UNLISTED. */
  private hold(id: string): PduView {
    let pdu = this.unlisted.get(id);
    if (!pdu) {
      if (this.unlisted.size >= MAX_UNLISTED) {
        const oldest = this.unlisted.keys().next().value;
        if (oldest !== undefined) this.unlisted.delete(oldest);
      }
      pdu = newView(id);
      this.unlisted.set(id, pdu);
    }
    return pdu;
  }

  private applyInfo(pdu: PduView, info: InfoPayload): void {
    pdu.info = info;
    pdu.name = info.name;
    for (const o of info.outlets) {
      const view = this.outlet(pdu, o.number);
      view.name = o.name;
      view.protected = o.protected;
    }
    const numbers = new Set(info.outlets.map((o) => o.number));
    for (const n of [...pdu.outlets.keys()]) if (!numbers.has(n)) pdu.outlets.delete(n);
  }

  private outlet(pdu: PduView, n: number): OutletView {
    let outlet = pdu.outlets.get(n);
    if (!outlet) {
      outlet = {
        number: n,
        name: `Outlet ${n}`,
        protected: false,
        state: null,
        power: null,
        current: null,
        energy: null,
      };
      pdu.outlets.set(n, outlet);
    }
    return outlet;
  }
}

interface Waiter {
  pdu: string;
  /** null: a PDU-wide command, answered by a result for any outlet of the PDU. */
  outlet: number | null;
  /** MQTT 5: answered only on the response topic. */
  viaResponse: boolean;
  resolve: (result: ResultPayload) => void;
}

function newView(id: string): PduView {
  return {
    id,
    name: id,
    online: false,
    info: null,
    linkErrors: null,
    linkFailures: null,
    outlets: new Map(),
  };
}

/** The "source" user property: at most 64 printable characters. */
function sourceText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
}

function printable(text: string): string {
  const clipped = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return clipped.replace(/[^\x20-\x7e]/g, "?");
}

// The client side of the MQTT contract, for every part that is "just another MQTT client" (panel, gateway):
// a live view of every PDU on the bus, and commands that resolve with the agent's result.
import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import type { MqttClient } from "mqtt";
import type { Action } from "../protocol/commands.ts";
import type { InfoPayload, OutletState, ResultPayload } from "../protocol/payloads.ts";
import { Topics } from "../protocol/topics.ts";

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

export class CommandTimeout extends Error {
  constructor(pdu: string, outlet: number) {
    super(`no result from PDU "${pdu}" for outlet ${outlet} in time (is its pdu-agent running?)`);
    this.name = "CommandTimeout";
  }
}

export interface DirectoryEvents {
  change: [pdu: string];
  result: [pdu: string, result: ResultPayload];
}

export class PduDirectory extends EventEmitter<DirectoryEvents> {
  private readonly pdus = new Map<string, PduView>();
  private readonly waiting = new Map<string, (result: ResultPayload) => void>();
  private readonly onMessage = (topic: string, payload: Buffer): void => {
    this.handle(topic, payload);
  };

  constructor(
    private readonly client: MqttClient,
    private readonly topics: Topics,
    /** Names this client in commands (transaction prefix, MQTT 5 user property "source"). */
    private readonly source: string,
    /** The `source` user property of this client's commands (`panel <id>`, `cli`, …). */
    private readonly commandSource: string = source,
  ) {
    super();
  }

  async start(): Promise<void> {
    this.client.on("message", this.onMessage);
    await this.client.subscribeAsync(this.topics.allPdusFilter(), { qos: 1 });
  }

  stop(): void {
    this.client.removeListener("message", this.onMessage);
    for (const resolve of this.waiting.values())
      resolve({
        outlet: null,
        command: null,
        status: "error",
        error: { code: "shutting_down", message: "client stopping" },
      });
    this.waiting.clear();
  }

  list(): PduView[] {
    return [...this.pdus.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): PduView | undefined {
    return this.pdus.get(id);
  }

  /** Send a command and resolve with the agent's result. Rejects with CommandTimeout. */
  /** `source`: who asked (MQTT 5 user property, e.g. `rest 10.0.0.7`); default this client's own source. */
  command(
    pdu: string,
    outlet: number,
    request: CommandRequest,
    timeoutMs?: number,
    source: string = this.commandSource,
  ): Promise<ResultPayload> {
    const transaction = `${this.source}-${randomBytes(6).toString("hex")}`;
    const body = JSON.stringify({ ...request, transaction });
    const limit =
      timeoutMs ??
      15_000 + (request.action === "cycle" ? (request.delay ?? 5) * 1000 : (request.delay ?? 0) * 1000);
    return new Promise<ResultPayload>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(transaction);
        reject(new CommandTimeout(pdu, outlet));
      }, limit);
      this.waiting.set(transaction, (result) => {
        clearTimeout(timer);
        this.waiting.delete(transaction);
        resolve(result);
      });
      const v5 = this.client.options.protocolVersion === 5;
      this.client
        .publishAsync(this.topics.set(pdu, outlet), body, {
          qos: 1,
          ...(v5 ? { properties: { userProperties: { source: source.slice(0, 64) } } } : {}),
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          this.waiting.delete(transaction);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  }

  private view(id: string): PduView {
    let pdu = this.pdus.get(id);
    if (!pdu) {
      pdu = {
        id,
        name: id,
        online: false,
        info: null,
        linkErrors: null,
        linkFailures: null,
        outlets: new Map(),
      };
      this.pdus.set(id, pdu);
    }
    return pdu;
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

  private handle(topic: string, payload: Buffer): void {
    const parsed = this.topics.parse(topic);
    if (!parsed || parsed.kind === "set" || parsed.kind === "telemetry") return;
    const text = payload.toString("utf8");
    if (parsed.kind === "result") {
      const result = parseJson(text) as ResultPayload | null;
      if (!result || typeof result !== "object") return;
      this.emit("result", parsed.pdu, result);
      const tx = result.transaction;
      if (typeof tx === "string") this.waiting.get(tx)?.(result);
      return;
    }
    if (payload.length === 0) return; // a retained topic being cleared
    const pdu = this.view(parsed.pdu);
    if (parsed.kind === "availability") {
      pdu.online = text === "online";
    } else if (parsed.kind === "diagnostics") {
      const d = parseJson(text) as { linkErrors?: unknown; linkFailures?: unknown } | null;
      if (!d || typeof d !== "object") return;
      if (typeof d.linkErrors === "number" && Number.isFinite(d.linkErrors)) pdu.linkErrors = d.linkErrors;
      if (typeof d.linkFailures === "number" && Number.isFinite(d.linkFailures))
        pdu.linkFailures = d.linkFailures;
    } else if (parsed.kind === "info") {
      const info = parseJson(text) as InfoPayload | null;
      if (!info || !Array.isArray(info.outlets)) return;
      pdu.info = info;
      pdu.name = typeof info.name === "string" ? info.name : pdu.id;
      for (const o of info.outlets) {
        if (typeof o.number !== "number") continue;
        const view = this.outlet(pdu, o.number);
        view.name = typeof o.name === "string" ? o.name : view.name;
        view.protected = o.protected;
      }
      for (const n of [...pdu.outlets.keys()])
        if (!info.outlets.some((o) => o.number === n)) pdu.outlets.delete(n);
    } else if (parsed.kind === "metric") {
      const n = Number.parseInt(parsed.outlet, 10);
      if (!Number.isInteger(n) || n < 1 || n > 64) return;
      const view = this.outlet(pdu, n);
      if (parsed.metric === "state") {
        if (text !== "ON" && text !== "OFF") return;
        view.state = text;
      } else {
        const value = Number(text);
        if (!Number.isFinite(value)) return;
        view[parsed.metric] = value;
      }
    } else {
      return;
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

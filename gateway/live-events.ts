// Server-Sent Events for the web page: a full snapshot of each PDU on connect, then a fresh snapshot of a
// PDU whenever anything of it changes (coalesced, so a burst of readings is one event), and every result.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PduActivity } from "../client/pdu-activity.ts";
import type { PduDirectory, PduView } from "../client/pdu-directory.ts";
import type { ResultPayload } from "../protocol/payloads.ts";
import type { MessageGuard } from "../lib/message-guard.ts";
import { pduJson } from "./views.ts";

const COALESCE_MS = 100;
const HEARTBEAT_MS = 15_000;
const MAX_CLIENTS = 200;
/** Streams one address may hold: a few tabs, not every slot. */
export const MAX_CLIENTS_PER_ADDRESS = 8;

export class LiveEvents {
  private readonly clients = new Set<ServerResponse>();
  private readonly perAddress = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly onChange = (pdu: string): void => {
    this.dirty.add(pdu);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      if (this.guard) this.guard.guard("live-events", () => this.flush());
      else this.flush();
    }, COALESCE_MS);
  };
  private readonly onResult = (pdu: string, result: ResultPayload): void => {
    this.broadcast("result", { pdu, ...result });
  };

  private readonly onLink = (up: boolean): void => {
    this.broadcast("link", { broker: up });
  };

  constructor(
    private readonly directory: PduDirectory,
    private readonly guard: MessageGuard | null = null,
    /** Pending actions, alarm, faults and staleness, added to each PDU snapshot. */
    private readonly activity: PduActivity | null = null,
  ) {}

  start(): void {
    this.directory.on("change", this.onChange);
    this.directory.on("result", this.onResult);
    this.activity?.on("change", this.onChange);
    this.activity?.on("link", this.onLink);
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) res.write(": keep-alive\n\n");
    }, HEARTBEAT_MS);
  }

  stop(): void {
    this.directory.off("change", this.onChange);
    this.directory.off("result", this.onResult);
    this.activity?.off("change", this.onChange);
    this.activity?.off("link", this.onLink);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const address = req.socket.remoteAddress ?? "unknown";
    const mine = this.perAddress.get(address) ?? 0;
    if (this.clients.size >= MAX_CLIENTS || mine >= MAX_CLIENTS_PER_ADDRESS) {
      res.writeHead(503, { "content-type": "text/plain", "retry-after": "10" });
      res.end(
        mine >= MAX_CLIENTS_PER_ADDRESS
          ? `too many live streams from this address (at most ${MAX_CLIENTS_PER_ADDRESS})\n`
          : "too many live clients\n",
      );
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 2000\n\n");
    if (this.activity) res.write(frame("link", { broker: this.activity.link }));
    for (const pdu of this.directory.list()) if (pdu.info) res.write(frame("pdu", this.snapshot(pdu)));
    this.clients.add(res);
    this.perAddress.set(address, mine + 1);
    req.socket.setTimeout(0);
    const drop = (): void => {
      if (!this.clients.delete(res)) return;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    };
    // The response's "close", not the request's: a request whose (empty) body has been read emits "close"
    // at once while its stream stays open, which would free the slot of a stream still running.
    res.once("close", drop);
    res.once("error", drop);
  }

  private flush(): void {
    this.flushTimer = null;
    for (const id of this.dirty) {
      const pdu = this.directory.get(id);
      if (pdu?.info) this.broadcast("pdu", this.snapshot(pdu));
    }
    this.dirty.clear();
  }

  private snapshot(pdu: PduView): object {
    return this.activity ? { ...pduJson(pdu), ...this.activity.json(pdu.id) } : pduJson(pdu);
  }

  private broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const text = frame(event, data);
    for (const res of this.clients) res.write(text);
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

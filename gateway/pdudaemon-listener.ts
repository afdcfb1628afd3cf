// One port, two protocols, as PDUDaemon users expect on 16421: the first bytes of a connection say whether
// it is HTTP (a method such as "GET ") or the bare request line `pduclient` sends without a newline.
// HTTP connections are handed to an http.Server; TCP lines are answered "ack" or "nack: <reason>".
import net from "node:net";
import type http from "node:http";
import type { Logger } from "../log/logger.ts";
import type { Outcome } from "./outlet-commands.ts";
import { redactSecrets } from "./redact.ts";
import {
  MAX_TCP_REQUEST_BYTES,
  parseTcpRequest,
  printable,
  type PdudaemonRequest,
} from "./pdudaemon-request.ts";

const HTTP_METHODS = [
  "GET ",
  "HEAD ",
  "POST ",
  "PUT ",
  "DELETE ",
  "OPTIONS ",
  "PATCH ",
  "CONNECT ",
  "TRACE ",
];

export interface ListenerTimings {
  /** A request line with no newline is complete once the client has been quiet this long (pduclient never ends its line). */
  quietMs: number;
  /** The whole request (first byte to complete line or HTTP hand-over) must arrive within this. */
  requestDeadlineMs: number;
}

export const DEFAULT_TIMINGS: ListenerTimings = { quietMs: 30, requestDeadlineMs: 10_000 };

export interface PdudaemonListenerDeps {
  http: http.Server;
  /** `client` is the requester's address. */
  handleLine: (request: PdudaemonRequest, client: string) => Promise<Outcome>;
  logger: Logger;
  timings?: Partial<ListenerTimings>;
}

export class PdudaemonListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly timings: ListenerTimings;

  constructor(private readonly deps: PdudaemonListenerDeps) {
    this.timings = { ...DEFAULT_TIMINGS, ...deps.timings };
    // Half-open allowed: a client that shuts its side after the line still gets the answer.
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  async start(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.removeListener("error", reject);
        resolve();
      });
    });
    return (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined); // a reset by the peer is not our failure
    socket.setNoDelay(true);
    let buffer: Buffer = Buffer.alloc(0);
    let quiet: NodeJS.Timeout | null = null;
    const deadline = setTimeout(() => finish("too_slow"), this.timings.requestDeadlineMs);
    let done = false;

    const finish = (why: "line" | "http" | "too_slow" | "too_long" | "closed"): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      if (quiet) clearTimeout(quiet);
      socket.removeListener("data", onData);
      socket.removeListener("end", onEnd);
      if (why === "http") {
        // Hand over first, then put the bytes back: the other order leaves Node's header-timeout bookkeeping
        // without a start time and every request is answered 408.
        socket.pause();
        this.deps.http.emit("connection", socket);
        socket.unshift(buffer);
        socket.resume();
        return;
      }
      if (why === "too_slow") return this.reply(socket, "nack: request not complete in time\n");
      if (why === "too_long")
        return this.reply(socket, `nack: request longer than ${MAX_TCP_REQUEST_BYTES} bytes\n`);
      if (buffer.length === 0) {
        socket.end();
        return;
      }
      this.answerLine(socket, buffer).catch((err: unknown) => {
        this.deps.logger.error(`pdudaemon tcp: answering failed: ${(err as Error).stack ?? String(err)}`, {
          component: "gateway",
        });
        this.reply(socket, "nack: internal error\n");
      });
    };
    const onData = (chunk: Buffer): void => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      const kind = sniff(buffer);
      if (kind === "http") return finish("http");
      if (kind === "undecided") return;
      if (buffer.length > MAX_TCP_REQUEST_BYTES) return finish("too_long");
      const text = buffer.toString("latin1");
      if (/[\r\n]/.test(text) || text.trim().split(/\s+/).length >= 4) return finish("line");
      if (quiet) clearTimeout(quiet);
      quiet = setTimeout(() => finish("line"), this.timings.quietMs);
    };
    // A half-closed connection (the client shut its side) ends the line; the answer still goes out.
    const onEnd = (): void => finish("closed");
    socket.on("data", onData);
    socket.on("end", onEnd);
  }

  private async answerLine(socket: net.Socket, bytes: Buffer): Promise<void> {
    const text = bytes.toString("utf8").split(/[\r\n]/)[0] ?? "";
    const parsed = parseTcpRequest(text);
    if (!parsed.ok) {
      this.deps.logger.info(
        `pdudaemon tcp: refused "${printable(redactSecrets(text), 80)}": ${parsed.message}`,
        {
          component: "gateway",
        },
      );
      return this.reply(socket, `nack: ${parsed.message}\n`);
    }
    let outcome: Outcome;
    try {
      outcome = await this.deps.handleLine(parsed.value, socket.remoteAddress ?? "unknown");
    } catch (err) {
      outcome = { code: "refused", message: (err as Error).message };
    }
    const request = redactSecrets(
      `${parsed.value.hostname ?? ""} ${parsed.value.port ?? ""} ${parsed.value.command}`,
    );
    if (outcome.code === "ok") {
      this.deps.logger.info(`pdudaemon tcp: ${request}: ${outcome.message}`, { component: "gateway" });
      return this.reply(socket, "ack\n");
    }
    this.deps.logger.warn(`pdudaemon tcp: ${printable(request, 80)}: ${outcome.code}: ${outcome.message}`, {
      component: "gateway",
    });
    this.reply(socket, `nack: ${outcome.message}\n`);
  }

  private reply(socket: net.Socket, text: string): void {
    if (socket.destroyed) return;
    socket.end(text);
    // A peer that never reads or closes must not hold the socket open for ever.
    setTimeout(() => socket.destroy(), 5000).unref();
  }
}

/** "http" once the bytes start with an HTTP method, "undecided" while they are still a prefix of one. */
function sniff(buffer: Buffer): "http" | "tcp" | "undecided" {
  const head = buffer.subarray(0, 8).toString("latin1");
  if (HTTP_METHODS.some((m) => head.startsWith(m))) return "http";
  if (HTTP_METHODS.some((m) => m.startsWith(head))) return "undecided";
  return "tcp";
}

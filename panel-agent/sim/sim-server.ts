// The simulated panel on HTTP: a page (page.html, plain HTML/JS) and a JSON API.
//   GET  /api/panel                      → {"lcd":[4×20 chars],"leds":[{"button":1,"lit":true,"mode":"on"}…],"pressed":[],"buttons":[…]}
//   GET  /api/events                     → the same object as server-sent events, on every change
//   POST /api/buttons/<n>/press {"ms":2000} → holds button n for ms, answers once the release has settled
//   POST /api/buttons/<n>/down, …/up     → press and release (the page's press-and-hold)
// Like the gateway, it refuses requests from other sites and names it does not answer to (lib/http-guard.ts),
// and with a gateway token set, pressing needs it (Authorization: Bearer <token> or ?token=).
import { createHash, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { HttpGuard } from "../../lib/http-guard.ts";
import { realSleep } from "../../lib/sleep.ts";
import type { Logger } from "../../log/logger.ts";
import type { SimPanel } from "./sim-panel.ts";

export const MAX_PRESS_MS = 60_000;
const PAGE = fs.readFileSync(new URL("./page.html", import.meta.url), "utf8");
/** Live streams one address may hold. */
export const MAX_STREAMS_PER_ADDRESS = 8;
const MAX_STREAMS = 64;

/** The page's own inline script and style, allowed by hash and nothing else. */
function pagePolicy(): string {
  const hashes = (tag: string): string =>
    [...PAGE.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))]
      .map(
        (m) =>
          `'sha256-${createHash("sha256")
            .update(m[1] ?? "")
            .digest("base64")}'`,
      )
      .join(" ");
  return (
    `default-src 'none'; script-src ${hashes("script")}; style-src ${hashes("style")}; connect-src 'self'; ` +
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
  );
}

export interface SimServerSecurity {
  /** Pressing needs this token when set. */
  token: string | null;
  /** Extra host names the page answers to. */
  hosts: readonly string[];
  /** Where an unexpected failure is logged with its stack. */
  logger?: Logger;
}

export interface ButtonLabel {
  button: number;
  pdu: string;
  outlet: number;
  name: string;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class SimServer {
  private server: http.Server | null = null;
  private readonly streams = new Set<http.ServerResponse>();
  private readonly perAddress = new Map<string, number>();
  private readonly guard: HttpGuard;
  private readonly tokenDigest: Buffer | null;
  private readonly stopping = new AbortController();
  private queued = false;
  private readonly onChange = (): void => {
    if (this.queued) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      const data = `data: ${JSON.stringify(this.body())}\n\n`;
      for (const res of this.streams) res.write(data);
    });
  };

  constructor(
    private readonly panel: SimPanel,
    private readonly labels: () => ButtonLabel[],
    /** Wait after a release before answering, so the panel has debounced it and back-to-back presses stay apart. */
    private readonly settleMs = 0,
    private readonly security: SimServerSecurity = { token: null, hosts: [] },
  ) {
    this.guard = new HttpGuard({ hosts: security.hosts, contentSecurityPolicy: pagePolicy() });
    this.tokenDigest = security.token === null || security.token === "" ? null : digest(security.token);
  }

  async start(host: string, port: number): Promise<{ url: string; port: number }> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.panel.on("change", this.onChange);
    const actual = (server.address() as AddressInfo).port;
    const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
    return { url: `http://${shown}:${actual}/`, port: actual };
  }

  async stop(): Promise<void> {
    this.panel.off("change", this.onChange);
    this.stopping.abort();
    for (const res of this.streams) res.end();
    this.streams.clear();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private body(): object {
    return { ...this.panel.state(), buttons: this.labels() };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      this.guard.secure(res);
      const misdirected = this.guard.hostProblem(req);
      if (misdirected !== null) throw new ApiError(421, "misdirected_request", misdirected);
      const url = new URL(req.url ?? "/", "http://panel");
      if (req.method === "GET" && (url.pathname === "/" || url.pathname === "/index.html")) {
        res
          .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
          .end(PAGE);
        return;
      }
      if (req.method === "GET" && url.pathname === "/api/panel") return json(res, 200, this.body());
      if (req.method === "GET" && url.pathname === "/api/events") {
        const address = req.socket.remoteAddress ?? "unknown";
        const mine = this.perAddress.get(address) ?? 0;
        if (mine >= MAX_STREAMS_PER_ADDRESS || this.streams.size >= MAX_STREAMS)
          throw new ApiError(
            503,
            "too_many_streams",
            `at most ${MAX_STREAMS_PER_ADDRESS} live streams per address`,
          );
        this.perAddress.set(address, mine + 1);
        // The response's "close" (the stream ended or its connection went), not the request's.
        res.once("close", () => {
          const left = (this.perAddress.get(address) ?? 1) - 1;
          if (left <= 0) this.perAddress.delete(address);
          else this.perAddress.set(address, left);
        });
        res.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-store",
          connection: "keep-alive",
        });
        res.write(`data: ${JSON.stringify(this.body())}\n\n`);
        this.streams.add(res);
        res.once("close", () => this.streams.delete(res));
        return;
      }
      const m = /^\/api\/buttons\/([^/]+)\/(press|down|up)$/.exec(url.pathname);
      if (!m) throw new ApiError(404, "not_found", `no such resource: ${url.pathname}`);
      if (req.method !== "POST") throw new ApiError(405, "method_not_allowed", `${url.pathname} takes POST`);
      const crossSite = this.guard.crossSiteProblem(req);
      if (crossSite !== null) throw new ApiError(403, "cross_site", `${crossSite}: pressing is refused`);
      if (!this.tokenAccepted(req, url))
        throw new ApiError(
          401,
          "unauthorised",
          "pressing needs the gateway token: send Authorization: Bearer <token>",
        );
      const index = this.buttonIndex(m[1] ?? "");
      const action = m[2];
      if (action === "down" || action === "up") {
        this.panel.set(index, action === "down");
        return json(res, 200, this.body());
      }
      const ms = parseDuration(url.searchParams.get("ms") ?? (await readBody(req)));
      if (this.panel.state().pressed.includes(index + 1))
        throw new ApiError(409, "button_busy", `button ${index + 1} is already held`);
      this.panel.set(index, true);
      await realSleep(ms, this.stopping.signal);
      this.panel.set(index, false);
      await realSleep(this.settleMs, this.stopping.signal);
      return json(res, 200, { button: index + 1, ms, ...this.body() });
    } catch (err) {
      if (err instanceof ApiError)
        return json(res, err.status, { error: { code: err.code, message: err.message } });
      this.security.logger?.error(
        `panel page: ${req.method ?? "?"} failed: ${(err as Error).stack ?? String(err)}`,
        {
          component: "panel",
        },
      );
      json(res, 500, { error: { code: "internal", message: (err as Error).message } });
    }
  }

  private tokenAccepted(req: http.IncomingMessage, url: URL): boolean {
    if (this.tokenDigest === null) return true;
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const candidate = bearer?.[1] ?? url.searchParams.get("token");
    return candidate !== null && candidate !== "" && timingSafeEqual(digest(candidate), this.tokenDigest);
  }

  private buttonIndex(raw: string): number {
    const n = /^\d{1,2}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= this.panel.size))
      throw new ApiError(
        400,
        "invalid_button",
        `button "${raw}" does not exist; allowed: 1 to ${this.panel.size}`,
      );
    return n - 1;
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function json(res: http.ServerResponse, status: number, body: object): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}

/** {"ms":2000}, or the bare number from ?ms=2000. */
function parseDuration(raw: string): number {
  let value: unknown = raw.trim();
  if (typeof value === "string" && value.startsWith("{")) {
    try {
      value = (JSON.parse(value) as { ms?: unknown }).ms;
    } catch {
      throw new ApiError(400, "invalid_payload", 'body must be JSON such as {"ms":2000}');
    }
  } else if (typeof value === "string" && /^\d+$/.test(value)) {
    value = Number(value);
  }
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_PRESS_MS) {
    throw new ApiError(
      400,
      "invalid_duration",
      `"ms" is ${JSON.stringify(value)}; allowed: an integer from 0 to ${MAX_PRESS_MS}`,
    );
  }
  return value;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > 1024) {
        req.destroy();
        reject(new ApiError(413, "payload_too_large", "body over 1024 bytes"));
      }
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

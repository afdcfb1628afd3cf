// Routes every HTTP request of the gateway to its handler. The same app answers on the web port and on the
// PDUDaemon port, so /power/*, /api/*, /metrics and the page work on either.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpGuard } from "../lib/http-guard.ts";
import type { Logger } from "../log/logger.ts";
import type { DashboardApi } from "./dashboard-api.ts";
import { sendError, sendText } from "./http-util.ts";
import type { LiveEvents } from "./live-events.ts";
import type { GatewayMetrics } from "./metrics.ts";
import type { PdudaemonHttp } from "./pdudaemon-http.ts";
import { printable } from "./pdudaemon-request.ts";
import { redactSecrets } from "./redact.ts";
import type { RestApi } from "./rest-api.ts";
import type { StaticFiles } from "./static-files.ts";

export interface AppParts {
  pdudaemon: PdudaemonHttp;
  rest: RestApi;
  events: LiveEvents;
  metrics: GatewayMetrics;
  files: StaticFiles;
  guard: HttpGuard;
  logger: Logger;
  /** History, energy, pending actions and PDU-wide commands. */
  dashboard?: DashboardApi;
}

export function createApp(parts: AppParts): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    parts.guard.secure(res);
    const misdirected = parts.guard.hostProblem(req);
    if (misdirected !== null) {
      sendText(res, 421, `Misdirected request: ${misdirected}\n`);
      return;
    }
    route(parts, req, res).catch((err: unknown) => {
      parts.logger.error(
        `http ${req.method ?? "?"} ${printable(redactSecrets(req.url ?? ""), 80)} failed: ${(err as Error).stack ?? String(err)}`,
        { component: "gateway" },
      );
      sendError(res, 500, "internal_error", "the gateway failed to answer; see its log");
    });
  };
}

async function route(parts: AppParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://gateway.invalid");
  } catch {
    sendText(res, 400, "Invalid request - malformed URL\n");
    return;
  }
  const method = req.method ?? "GET";
  // Anything that can switch: refused when a browser sent it from another site (a link, an <img>, a form,
  // a fetch from a page elsewhere). Programs send no Origin, Referer or Sec-Fetch-Site and are unaffected.
  if (!(method === "GET" || method === "HEAD") || url.pathname.startsWith("/power/control")) {
    const crossSite = parts.guard.crossSiteProblem(req);
    if (crossSite !== null) {
      sendError(res, 403, "cross_site", `${crossSite}: switching is refused`);
      return;
    }
  }
  if (await parts.pdudaemon.handle(req, res, url)) return;
  const segments = url.pathname.split("/").filter((s) => s.length > 0);
  let decoded: string[];
  try {
    decoded = segments.map((s) => decodeURIComponent(s));
  } catch {
    sendError(res, 400, "invalid_request", "malformed percent-encoding in the path");
    return;
  }
  if (decoded[0] === "api") {
    if (decoded[1] === "events" && decoded.length === 2) {
      if (method !== "GET") {
        sendError(res, 405, "method_not_allowed", "use GET");
        return;
      }
      parts.events.handle(req, res);
      return;
    }
    if (await parts.dashboard?.handle(req, res, decoded.slice(1), url.searchParams)) return;
    if (await parts.rest.handle(req, res, decoded.slice(1), url.searchParams)) return;
    if ((method === "GET" || method === "HEAD") && parts.files.serve(res, url.pathname, method === "HEAD"))
      return; // /api/openapi.yaml
    sendError(res, 404, "not_found", `no API path ${printable(url.pathname, 60)}; see /api/openapi.yaml`);
    return;
  }
  if (url.pathname === "/metrics" && (method === "GET" || method === "HEAD")) {
    const body = await parts.metrics.text();
    res.writeHead(200, { "content-type": parts.metrics.contentType, "cache-control": "no-store" });
    res.end(method === "HEAD" ? undefined : body);
    return;
  }
  if (url.pathname === "/healthz") {
    sendText(res, 200, "ok\n");
    return;
  }
  if ((method === "GET" || method === "HEAD") && parts.files.serve(res, url.pathname, method === "HEAD"))
    return;
  sendText(
    res,
    404,
    `Not found: ${printable(url.pathname, 60)}. The page is at /, the API at /api, metrics at /metrics, PDUDaemon at /power/control/{on,off,reboot}.\n`,
  );
}

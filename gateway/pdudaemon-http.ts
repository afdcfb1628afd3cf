// PDUDaemon's HTTP API: GET /power/control/{on,off,reboot}?hostname=&port=&delay= (or alias=), answered
// only once the agent's result is in: 200 "OK - accepted request", else 503 (PDUDaemon's documented code
// for a request it did not carry out) with the reason. Plus GET /power/status, which upstream lacks.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PduDirectory } from "../client/pdu-directory.ts";
import type { Logger } from "../log/logger.ts";
import { tokenOf } from "./auth.ts";
import { sendError, sendJson, sendText } from "./http-util.ts";
import type { OutcomeCode } from "./outlet-commands.ts";
import { resolveOutlet, resolvePdu } from "./outlet-resolver.ts";
import { parseHttpRequest, printable } from "./pdudaemon-request.ts";
import type { PdudaemonService } from "./pdudaemon-service.ts";
import { outletJson, pduJson } from "./views.ts";

const STATUS: Record<OutcomeCode, number> = {
  ok: 200,
  unauthorised: 401,
  invalid_request: 503,
  unknown_pdu: 503,
  unknown_outlet: 503,
  pdu_offline: 503,
  timeout: 503,
  refused: 503,
};

export class PdudaemonHttp {
  constructor(
    private readonly service: PdudaemonService,
    private readonly directory: PduDirectory,
    private readonly logger: Logger,
  ) {}

  /** True when the path was ours and has been answered. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const segments = url.pathname.split("/").filter((s) => s.length > 0);
    if (segments[0] !== "power") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendText(res, 405, "Invalid request - use GET\n", { allow: "GET, HEAD" });
      return true;
    }
    if (segments[1] === "control" && segments.length === 3) {
      await this.control(req, res, url, segments[2] ?? "");
      return true;
    }
    if (segments[1] === "status" && segments.length === 2) {
      this.status(res, url.searchParams);
      return true;
    }
    sendText(
      res,
      404,
      `Invalid request - unknown path ${printable(url.pathname, 60)}; use /power/control/{on,off,reboot} or /power/status\n`,
    );
    return true;
  }

  private async control(req: IncomingMessage, res: ServerResponse, url: URL, command: string): Promise<void> {
    const request = parseHttpRequest(command, url.searchParams);
    const header = tokenOf(req, new URLSearchParams());
    if (header !== undefined && request.token === undefined) request.token = header;
    const outcome = await this.service.handle("pdudaemon-http", request, req.socket.remoteAddress);
    const what = `${command} ${request.alias ?? `${request.hostname ?? "?"} ${request.port ?? "?"}`}`;
    if (outcome.code === "ok") {
      this.logger.info(`pdudaemon http: ${printable(what, 80)}: ${outcome.message}`, {
        component: "gateway",
      });
      sendText(res, 200, "OK - accepted request\n");
      return;
    }
    this.logger.warn(`pdudaemon http: ${printable(what, 80)}: ${outcome.code}: ${outcome.message}`, {
      component: "gateway",
    });
    sendText(res, STATUS[outcome.code], `Invalid request - ${outcome.message}\n`);
  }

  /** `?hostname=` alone lists every outlet of that PDU; with `&port=` one outlet. JSON either way. */
  private status(res: ServerResponse, query: URLSearchParams): void {
    const hostname = query.get("hostname");
    if (hostname === null || hostname === "") {
      sendError(res, 400, "invalid_request", "missing hostname (the PDU id)");
      return;
    }
    const pdu = resolvePdu(this.directory, hostname);
    if (!pdu.ok) {
      sendError(res, 404, pdu.code, pdu.message);
      return;
    }
    const port = query.get("port");
    if (port === null || port === "") {
      sendJson(res, 200, pduJson(pdu.value));
      return;
    }
    const outlet = resolveOutlet(pdu.value, port);
    if (!outlet.ok) {
      sendError(res, 404, outlet.code, outlet.message);
      return;
    }
    sendJson(res, 200, {
      hostname: pdu.value.id,
      port: outlet.value.number,
      online: pdu.value.online,
      ...outletJson(outlet.value),
    });
  }
}

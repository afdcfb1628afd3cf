// The REST JSON API (docs/openapi.yaml): every PDU and outlet with live readings, and switching that
// answers with the agent's result.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CommandRequest, PduDirectory } from "../client/pdu-directory.ts";
import type { Action } from "../protocol/commands.ts";
import { tokenOf, type TokenCheck } from "./auth.ts";
import { BodyError, readBody, sendError, sendJson } from "./http-util.ts";
import type { OutletCommands, OutcomeCode } from "./outlet-commands.ts";
import { resolveOutlet, resolvePdu } from "./outlet-resolver.ts";
import { printable } from "./pdudaemon-request.ts";
import { outletJson, pduJson } from "./views.ts";

const MAX_BODY = 4096;
const ACTIONS: readonly Action[] = ["on", "off", "toggle", "cycle"];
const STATUS: Record<OutcomeCode, number> = {
  ok: 200,
  unauthorised: 401,
  invalid_request: 400,
  unknown_pdu: 404,
  unknown_outlet: 404,
  pdu_offline: 503,
  timeout: 504,
  refused: 409,
};

export interface RestDeps {
  directory: PduDirectory;
  commands: OutletCommands;
  tokens: TokenCheck;
  version: string;
}

export class RestApi {
  constructor(private readonly deps: RestDeps) {}

  /** True when the path was ours and has been answered. `segments` are the decoded path levels after /api. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    segments: string[],
    query: URLSearchParams,
  ): Promise<boolean> {
    const method = req.method ?? "GET";
    const [collection, pduId, outlets, outletId, ...extra] = segments;
    if (collection === undefined) {
      if (!isRead(method)) return methodNotAllowed(res, "GET");
      sendJson(res, 200, {
        name: "piPDU gateway",
        version: this.deps.version,
        tokenRequired: this.deps.tokens.required,
        pdus: this.deps.directory.list().filter((p) => p.info).length,
      });
      return true;
    }
    if (collection !== "pdus" || extra.length > 0 || (outlets !== undefined && outlets !== "outlets"))
      return false;
    if (pduId === undefined) {
      if (!isRead(method)) return methodNotAllowed(res, "GET");
      sendJson(
        res,
        200,
        this.deps.directory
          .list()
          .filter((p) => p.info)
          .map(pduJson),
      );
      return true;
    }
    const pdu = resolvePdu(this.deps.directory, pduId);
    if (!pdu.ok) return error(res, 404, pdu.code, pdu.message);
    if (outlets === undefined) {
      if (!isRead(method)) return methodNotAllowed(res, "GET");
      sendJson(res, 200, pduJson(pdu.value));
      return true;
    }
    if (outletId === undefined) {
      if (!isRead(method)) return methodNotAllowed(res, "GET");
      sendJson(res, 200, pduJson(pdu.value).outlets);
      return true;
    }
    const outlet = resolveOutlet(pdu.value, outletId);
    if (!outlet.ok) return error(res, 404, outlet.code, outlet.message);
    if (isRead(method)) {
      sendJson(res, 200, outletJson(outlet.value));
      return true;
    }
    if (method !== "POST") return methodNotAllowed(res, "GET, POST");
    if (!this.deps.tokens.accepts(tokenOf(req, query))) {
      return error(
        res,
        401,
        "unauthorised",
        "switching needs the gateway token: send Authorization: Bearer <token>",
      );
    }
    let body: string;
    try {
      body = await readBody(req, MAX_BODY);
    } catch (err) {
      return error(
        res,
        err instanceof BodyError ? err.status : 400,
        "invalid_request",
        (err as Error).message,
      );
    }
    const request = parseSwitchBody(body);
    if (!request.ok) return error(res, 400, "invalid_request", request.message);
    const outcome = await this.deps.commands.run(
      "rest",
      pdu.value,
      outlet.value,
      request.value,
      req.socket.remoteAddress,
    );
    sendJson(res, STATUS[outcome.code], {
      status: outcome.code === "ok" ? "ok" : "error",
      code: outcome.code,
      message: outcome.message,
      pdu: pdu.value.id,
      outlet: outlet.value.number,
      action: request.value.action,
      state: outcome.state ?? null,
      ...(outcome.result?.error ? { error: outcome.result.error } : {}),
    });
    return true;
  }
}

/** {"action":"on"|"off"|"toggle"|"cycle","delay"?:seconds,"force"?:boolean} — nothing else. */
export function parseSwitchBody(
  body: string,
): { ok: true; value: CommandRequest } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, message: 'body must be JSON such as {"action":"cycle","delay":5}' };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, message: "body must be a JSON object" };
  const obj = value as Record<string, unknown>;
  const unknown = Object.keys(obj).find((k) => !["action", "delay", "force"].includes(k));
  if (unknown !== undefined)
    return { ok: false, message: `unknown field "${printable(unknown)}"; allowed: action, delay, force` };
  const action = obj["action"];
  if (typeof action !== "string" || !(ACTIONS as readonly string[]).includes(action)) {
    return { ok: false, message: `"action" must be one of ${ACTIONS.join(", ")}` };
  }
  const request: CommandRequest = { action: action as Action };
  const delay = obj["delay"];
  if (delay !== undefined) {
    if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0)
      return { ok: false, message: '"delay" must be a number of seconds, 0 or more' };
    request.delay = delay;
  }
  const force = obj["force"];
  if (force !== undefined) {
    if (typeof force !== "boolean") return { ok: false, message: '"force" must be true or false' };
    request.force = force;
  }
  return { ok: true, value: request };
}

function isRead(method: string): boolean {
  return method === "GET" || method === "HEAD";
}

function methodNotAllowed(res: ServerResponse, allow: string): true {
  res.setHeader("allow", allow);
  sendError(res, 405, "method_not_allowed", `use ${allow}`);
  return true;
}

function error(res: ServerResponse, status: number, code: string, message: string): true {
  sendError(res, status, code, message);
  return true;
}

// The REST routes behind the dashboard (docs/openapi.yaml): power and current history, energy by day and
// month, the pending actions, and the PDU-wide commands (ALL ON, ALL OFF, cancel a pending action).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PduActivity } from "../client/pdu-activity.ts";
import type { PduDirectory, PduView } from "../client/pdu-directory.ts";
import { parsePduCommand } from "../protocol/pdu-commands.ts";
import { tokenOf, type TokenCheck } from "./auth.ts";
import type { HistoryService } from "./history/history-service.ts";
import { DEFAULT_TIERS, TieredHistory } from "./history/tiered-history.ts";
import { BodyError, readBody, requireJson, sendError, sendJson } from "./http-util.ts";
import { resolveOutlet, resolvePdu } from "./outlet-resolver.ts";
import { printable } from "./pdudaemon-request.ts";

const MAX_RANGE = 90 * 86400;
/** How the page words the outlets a PDU-wide command left alone, by the agent's reason code. */
const SKIP_NOTES: Record<string, string> = {
  protected_outlet: "protected outlets stay on",
  cancelled: "cancelled",
  overload: "left off (over the current budget)",
  too_many_pending: "left off (too many pending actions)",
};
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export interface DashboardDeps {
  directory: PduDirectory;
  activity: PduActivity;
  history: HistoryService;
  tokens: TokenCheck;
  /** Seconds to wait for the agent's result. */
  requestTimeout: number;
}

export class DashboardApi {
  constructor(private readonly deps: DashboardDeps) {}

  /** True when the path was ours and has been answered. `segments` are the decoded path levels after /api. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    segments: string[],
    query: URLSearchParams,
  ): Promise<boolean> {
    const [collection, pduId, leaf, ...extra] = segments;
    if (collection !== "pdus" || pduId === undefined || extra.length > 0) return false;
    if (leaf !== "history" && leaf !== "energy" && leaf !== "pending" && leaf !== "actions") return false;
    const method = req.method ?? "GET";
    const read = method === "GET" || method === "HEAD";
    if (leaf === "actions" ? method !== "POST" : !read) {
      res.setHeader("allow", leaf === "actions" ? "POST" : "GET");
      sendError(res, 405, "method_not_allowed", `use ${leaf === "actions" ? "POST" : "GET"}`);
      return true;
    }
    const pdu = resolvePdu(this.deps.directory, pduId);
    if (!pdu.ok) {
      sendError(res, 404, pdu.code, pdu.message);
      return true;
    }
    if (leaf === "history") this.history(req, res, pdu.value, query);
    else if (leaf === "energy") this.energy(res, pdu.value);
    else if (leaf === "pending") sendJson(res, 200, this.deps.activity.pending(pdu.value.id));
    else await this.action(req, res, pdu.value, query);
    return true;
  }

  private history(req: IncomingMessage, res: ServerResponse, pdu: PduView, query: URLSearchParams): void {
    const outletParam = query.get("outlet") ?? "total";
    let series = 0;
    if (outletParam !== "total") {
      const outlet = resolveOutlet(pdu, outletParam);
      if (!outlet.ok) return sendError(res, 404, outlet.code, outlet.message);
      series = outlet.value.number;
    }
    const range = parseRange(query.get("range") ?? "1h");
    if (range === null)
      return sendError(
        res,
        400,
        "invalid_request",
        `"range" must be a duration such as 15m, 6h, 2d or 90d (seconds without a unit), at most 90d`,
      );
    const metric = query.get("metric") ?? "power";
    if (metric !== "power" && metric !== "current")
      return sendError(res, 400, "invalid_request", '"metric" must be power or current');
    const resolutionParam = query.get("resolution");
    let resolution: number | undefined;
    if (resolutionParam !== null) {
      resolution = Number(resolutionParam);
      if (!DEFAULT_TIERS.some((t) => t.step === resolution))
        return sendError(
          res,
          400,
          "invalid_request",
          `"resolution" must be one of ${DEFAULT_TIERS.map((t) => t.step).join(", ")} (seconds)`,
        );
    }
    const answer = this.deps.history.query(pdu.id, series, metric, range, resolution) ?? {
      resolution: new TieredHistory(1).tierFor(range, resolution)?.spec.step ?? DEFAULT_TIERS[0]?.step ?? 1,
      points: [],
    };
    const unit = metric === "power" ? "watts" : "amperes";
    const csv = query.get("format") === "csv" || /\btext\/csv\b/.test(req.headers.accept ?? "");
    if (!csv) {
      sendJson(res, 200, {
        pdu: pdu.id,
        outlet: series === 0 ? "total" : series,
        metric,
        unit: metric === "power" ? "W" : "A",
        range,
        ...answer,
      });
      return;
    }
    const lines = [`time,unix_seconds,${unit}`];
    for (const [at, v] of answer.points)
      lines.push(`${new Date(at * 1000).toISOString()},${at},${v === null ? "" : v}`);
    const body = `${lines.join("\n")}\n`;
    const name = `${pdu.id}-${series === 0 ? "total" : `outlet${series}`}-${metric}.csv`;
    res.writeHead(200, {
      "content-type": "text/csv; charset=utf-8",
      "content-length": String(Buffer.byteLength(body)),
      "content-disposition": `attachment; filename="${name}"`,
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  }

  private energy(res: ServerResponse, pdu: PduView): void {
    const summary = this.deps.history.energy(pdu.id);
    const numbers = [...pdu.outlets.keys()].sort((a, b) => a - b);
    const period = (kwh: number[] | undefined) => ({
      total: kwh?.[0] ?? 0,
      outlets: numbers.map((number) => ({ number, kwh: kwh?.[number] ?? 0 })),
    });
    sendJson(res, 200, {
      pdu: pdu.id,
      timezone: this.deps.history.timezone,
      unit: "kWh",
      today: { date: summary?.today.period ?? null, ...period(summary?.today.kwh) },
      yesterday: { date: summary?.yesterday.period ?? null, ...period(summary?.yesterday.kwh) },
      month: { month: summary?.month.period ?? null, ...period(summary?.month.kwh) },
    });
  }

  private async action(
    req: IncomingMessage,
    res: ServerResponse,
    pdu: PduView,
    query: URLSearchParams,
  ): Promise<void> {
    if (!this.deps.tokens.accepts(tokenOf(req, query)))
      return sendError(
        res,
        401,
        "unauthorised",
        "switching needs the gateway token: send Authorization: Bearer <token>",
      );
    if (!requireJson(req, res)) return;
    let body: string;
    try {
      body = await readBody(req, 4096);
    } catch (err) {
      return sendError(
        res,
        err instanceof BodyError ? err.status : 400,
        "invalid_request",
        (err as Error).message,
      );
    }
    if (!body.trim().startsWith("{"))
      return sendError(res, 400, "invalid_request", 'body must be JSON such as {"action":"all_off"}');
    const parsed = parsePduCommand(Buffer.from(body, "utf8"), pdu.outlets.size);
    if (!parsed.ok) return sendError(res, 400, "invalid_request", parsed.error.message);
    const { transaction, ...command } = parsed.command;
    if (transaction !== undefined)
      return sendError(res, 400, "invalid_request", 'unknown field "transaction"; the gateway sets its own');
    if (!pdu.online)
      return sendError(res, 503, "pdu_offline", `PDU "${pdu.id}" is offline; nothing was switched`);
    const reply = { pdu: pdu.id, action: command.action };
    try {
      const result = await this.deps.directory.pduCommand(
        pdu.id,
        command,
        this.deps.requestTimeout * 1000,
        `rest ${req.socket.remoteAddress ?? "?"}`,
      );
      // The agent answers ok for outlets it left alone on purpose (protected, over budget, a step cancelled)
      // and lists them under "skipped"; say which, grouped by reason.
      const ok = result.status === "ok";
      const byReason = new Map<string, string[]>();
      for (const [n, e] of Object.entries(result.skipped ?? {}))
        byReason.set(e.code, [...(byReason.get(e.code) ?? []), n]);
      const note = [...byReason]
        .map(([code, outlets]) => `; ${SKIP_NOTES[code] ?? code.replace(/_/g, " ")}: ${outlets.join(", ")}`)
        .join("");
      sendJson(res, ok ? 200 : 409, {
        status: ok ? "ok" : "error",
        code: ok ? "ok" : "refused",
        message: ok
          ? `${command.action.replace("_", " ")} done${note}`
          : `${result.error?.code ?? "error"}: ${result.error?.message ?? "refused by the pdu-agent"}`,
        ...reply,
        ...(result.outlets ? { outlets: result.outlets } : {}),
        ...(result.skipped ? { skipped: result.skipped } : {}),
        ...(result.errors ? { errors: result.errors } : {}),
        ...(result.cancelled ? { cancelled: result.cancelled } : {}),
        ...(result.error && !ok ? { error: result.error } : {}),
      });
    } catch (err) {
      sendJson(res, 504, {
        status: "error",
        code: "timeout",
        message: `${printable((err as Error).message, 200)}; the command may still be carried out`,
        ...reply,
      });
    }
  }
}

/** "15m", "6h", "2d", "90d" or plain seconds; null when malformed or beyond 90 days. */
export function parseRange(text: string): number | null {
  const m = /^([0-9]{1,7})([smhd]?)$/.exec(text.trim());
  if (!m) return null;
  const seconds = Number(m[1]) * (UNITS[m[2] || "s"] ?? 1);
  return seconds >= 1 && seconds <= MAX_RANGE ? seconds : null;
}

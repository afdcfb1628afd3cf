// Switching through the bus for every gateway front (PDUDaemon TCP and HTTP, REST, web page): check the
// target, send the command, wait for the agent's result with a timeout, and say what happened.
import {
  CommandTimeout,
  type CommandRequest,
  type OutletView,
  type PduDirectory,
  type PduView,
} from "../client/pdu-directory.ts";
import type { OutletState, ResultPayload } from "../protocol/payloads.ts";

export type OutcomeCode =
  | "ok"
  | "unauthorised"
  | "invalid_request"
  | "unknown_pdu"
  | "unknown_outlet"
  | "pdu_offline"
  | "timeout"
  | "refused";

export interface Outcome {
  code: OutcomeCode;
  message: string;
  /** The agent's result, when one arrived. */
  result?: ResultPayload;
  state?: OutletState;
}

export interface CommandStats {
  observe(api: string, outcome: OutcomeCode, seconds: number): void;
}

/** Milliseconds an agent whose availability says offline gets to answer anyway (see `send`). */
export const OFFLINE_ANSWER_MS = 3000;

export class OutletCommands {
  constructor(
    private readonly directory: Pick<PduDirectory, "command">,
    /** Seconds to wait for a result, on top of the command's own delay. */
    private readonly timeoutSeconds: number,
    private readonly stats: CommandStats | null = null,
  ) {}

  /** `client` is who asked (an address, "web 10.0.0.5"): the command's source is `<api> <client>`. */
  async run(
    api: string,
    pdu: PduView,
    outlet: OutletView,
    request: CommandRequest,
    client?: string,
  ): Promise<Outcome> {
    const started = process.hrtime.bigint();
    const outcome = await this.send(pdu, outlet, request, client === undefined ? api : `${api} ${client}`);
    this.stats?.observe(api, outcome.code, Number(process.hrtime.bigint() - started) / 1e9);
    return outcome;
  }

  // Availability is a retained message anyone allowed on the topic could have left, so "offline" is a hint,
  // not a verdict: the command is still sent, and the PDU is called offline only when its agent does not
  // answer within OFFLINE_ANSWER_MS either. A forged retained "offline" thus costs nothing, and a real one
  // loses nothing: an agent that is not connected is not subscribed, so the broker delivers the command to
  // no one (sessions are clean) and it cannot be carried out later.
  private async send(
    pdu: PduView,
    outlet: OutletView,
    request: CommandRequest,
    source: string,
  ): Promise<Outcome> {
    const online = pdu.online;
    const delay =
      request.delay ?? (request.action === "cycle" ? (pdu.info?.limits.defaultCycleDelay ?? 5) : 0);
    const timeoutMs = online ? (this.timeoutSeconds + delay) * 1000 : OFFLINE_ANSWER_MS + delay * 1000;
    let result: ResultPayload;
    try {
      result = await this.directory.command(pdu.id, outlet.number, request, timeoutMs, source);
    } catch (err) {
      if (err instanceof CommandTimeout && !online)
        return {
          code: "pdu_offline",
          message: `PDU "${pdu.id}" is offline and did not answer; nothing was switched`,
        };
      if (err instanceof CommandTimeout) {
        return {
          code: "timeout",
          message: `no result from PDU "${pdu.id}" within ${timeoutMs / 1000} s; the command may still be carried out`,
        };
      }
      return { code: "pdu_offline", message: `command not sent: ${(err as Error).message}` };
    }
    const state = result.state;
    if (result.status === "ok") {
      return {
        code: "ok",
        message: `outlet ${outlet.number} ${request.action}: ${state ?? "done"}`,
        result,
        ...(state ? { state } : {}),
      };
    }
    const reason = result.error
      ? `${result.error.code}: ${result.error.message}`
      : "refused by the pdu-agent";
    return { code: "refused", message: reason, result, ...(state ? { state } : {}) };
  }
}

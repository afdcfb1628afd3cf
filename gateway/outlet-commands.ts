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

export class OutletCommands {
  constructor(
    private readonly directory: PduDirectory,
    /** Seconds to wait for a result, on top of the command's own delay. */
    private readonly timeoutSeconds: number,
    private readonly stats: CommandStats | null = null,
  ) {}

  /** `peer`: the client's address, so the agent logs and answers who asked (`rest 10.0.0.7`). */
  async run(
    api: string,
    pdu: PduView,
    outlet: OutletView,
    request: CommandRequest,
    peer?: string,
  ): Promise<Outcome> {
    const started = process.hrtime.bigint();
    const outcome = await this.send(pdu, outlet, request, peer === undefined ? api : `${api} ${peer}`);
    this.stats?.observe(api, outcome.code, Number(process.hrtime.bigint() - started) / 1e9);
    return outcome;
  }

  private async send(
    pdu: PduView,
    outlet: OutletView,
    request: CommandRequest,
    source: string,
  ): Promise<Outcome> {
    if (!pdu.online)
      return { code: "pdu_offline", message: `PDU "${pdu.id}" is offline; nothing was switched` };
    const timeoutMs = (this.timeoutSeconds + (request.delay ?? 0)) * 1000;
    let result: ResultPayload;
    try {
      result = await this.directory.command(pdu.id, outlet.number, request, timeoutMs, source);
    } catch (err) {
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

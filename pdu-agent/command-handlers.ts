// One handler per command kind on the router: an outlet's `set`, the PDU-wide `set`. Each parses its payload
// (never throwing) and returns the typed result; the router does the rest.
import type { Settings } from "../config/settings.ts";
import { parseCommand, type CommandLimits } from "../protocol/commands.ts";
import { parsePduCommand } from "../protocol/pdu-commands.ts";
import type { ResultPayload } from "../protocol/payloads.ts";
import type { Topics } from "../protocol/topics.ts";
import type { ColdStartWatch } from "./cold-start.ts";
import type { CommandExecutor } from "./command-executor.ts";
import type { CommandHandler } from "./command-router.ts";

export class OutletCommandHandler implements CommandHandler<{ outlet: string }> {
  readonly kind = "outlet";

  constructor(
    private readonly topics: Topics,
    private readonly pduId: string,
    private readonly limits: () => CommandLimits,
    private readonly executor: CommandExecutor,
  ) {}

  filters(): string[] {
    return [this.topics.setFilter(this.pduId)];
  }

  match(topic: string): { outlet: string } | null {
    const parsed = this.topics.parse(topic);
    return parsed?.kind === "set" && parsed.pdu === this.pduId ? { outlet: parsed.outlet } : null;
  }

  describe(): Pick<ResultPayload, "outlet" | "command"> {
    return { outlet: null, command: null };
  }

  async handle(match: { outlet: string }, payload: Buffer): Promise<ResultPayload> {
    const command = parseCommand(match.outlet, payload, this.limits());
    if (command.ok) return this.executor.execute(command.command);
    const result: ResultPayload = {
      outlet: command.outlet,
      command: command.action ?? null,
      status: "error",
      error: command.error,
    };
    if (command.transaction !== undefined) result.transaction = command.transaction;
    return result;
  }
}

export class PduCommandHandler implements CommandHandler<true> {
  readonly kind = "pdu";

  constructor(
    private readonly settings: Settings,
    private readonly topics: Topics,
    private readonly outletCount: number,
    private readonly executor: CommandExecutor,
    private readonly coldStart: ColdStartWatch,
    private readonly isProtected: (outlet: number) => boolean,
  ) {}

  filters(): string[] {
    return [this.topics.pduSet(this.settings.pdu.id)];
  }

  match(topic: string): true | null {
    return topic === this.topics.pduSet(this.settings.pdu.id) ? true : null;
  }

  describe(): Pick<ResultPayload, "outlet" | "command"> {
    return { outlet: null, command: null };
  }

  async handle(_match: true, payload: Buffer): Promise<ResultPayload> {
    const parsed = parsePduCommand(payload, this.outletCount);
    if (!parsed.ok) {
      const result: ResultPayload = { outlet: null, command: null, status: "error", error: parsed.error };
      if (parsed.transaction !== undefined) result.transaction = parsed.transaction;
      return result;
    }
    const { transaction, action, ...rest } = parsed.command;
    const options = transaction === undefined ? rest : { ...rest, transaction };
    if (action === "all_on") {
      // Each outlet waits its own onDelay (or the stagger delay) after the one before: inrush spread out.
      const delays = Array.from(
        { length: this.outletCount },
        (_, i) => this.settings.outlets[i]?.onDelay ?? this.settings.safety.staggerDelay,
      );
      return this.executor.allOn(delays, options);
    }
    if (action === "all_off") return this.executor.allOff(options);
    return this.cancel(parsed.command);
  }

  /**
   * Cancel pending actions. The "on" still to come of a protected outlet (its cycle, its cold start) is kept
   * unless `force` is set: cancelling it would leave the outlet OFF.
   */
  private async cancel(command: {
    id?: number;
    outlet?: number;
    force?: boolean;
    transaction?: string | number;
  }): Promise<ResultPayload> {
    const filter = {
      ...(command.id !== undefined ? { id: command.id } : {}),
      ...(command.outlet !== undefined ? { outlet: command.outlet } : {}),
    };
    const force = command.force === true;
    const own = this.executor.cancel(filter, force);
    const matching = this.coldStart
      .actions()
      .filter(
        (a) =>
          (filter.id === undefined || a.id === filter.id) &&
          (filter.outlet === undefined || a.outlet === filter.outlet),
      );
    const coldKept = matching.filter((a) => !force && this.isProtected(a.outlet));
    const cold = await Promise.all(
      matching.filter((a) => !coldKept.includes(a)).map((a) => this.coldStart.cancel({ id: a.id })),
    );
    const kept = [...own.kept, ...coldKept.map((a) => a.id)];
    const refusal = {
      code: "protected_outlet" as const,
      message: 'the "on" still to come of a protected outlet; cancelling it needs "force": true',
    };
    const result: ResultPayload = {
      outlet: command.outlet ?? null,
      command: "cancel",
      status: "ok",
      cancelled: [...own.cancelled, ...cold.flat()],
    };
    if (kept.length > 0) {
      result.skipped = Object.fromEntries(kept.map((id) => [String(id), refusal]));
      // Asked for exactly that one: a refusal, not an ok that did nothing.
      if (command.id !== undefined) {
        result.status = "error";
        result.error = refusal;
      }
    }
    if (command.transaction !== undefined) result.transaction = command.transaction;
    return result;
  }
}

// Carries out parsed commands on the hardware through the PDU's one queue. Every command ends in exactly
// one result. A cycle is one queue task, so nothing interleaves between its off and its on; a budget check
// and the switch it allows are one queue task too, so two ONs can never pass against the same headroom.
import type { Command, CommandError } from "../protocol/commands.ts";
import type { PduCommand } from "../protocol/pdu-commands.ts";
import { formatState, type ResultPayload } from "../protocol/payloads.ts";
import type { Sleep } from "../lib/sleep.ts";
import type { CommandQueue } from "./command-queue.ts";
import { HardwareError, type OutletController } from "./hardware/outlet-controller.ts";
import type { OutletStateStore } from "./outlet-state.ts";

export interface ExecutorDeps {
  controller: OutletController;
  queue: CommandQueue;
  store: OutletStateStore;
  sleep: Sleep;
  isProtected: (outlet: number) => boolean;
  /** Why switching this outlet on must be refused right now (power budget), or null. Runs inside the queue. */
  refuseOn?: (outlet: number) => CommandError | null;
  /** Most pending actions this PDU holds (its own plus those of other sources in the store). */
  maxPending?: number;
  now?: () => number;
}

export interface PendingAction {
  id: number;
  outlet: number;
  action: Command["action"];
  /** When it will run (ms since the epoch); null when the firmware decides (cold start). */
  dueAt: number | null;
  /** "cold_start": the firmware's staggered start after a power cut, not a command. */
  source?: "command" | "cold_start";
}

type PduOptions = Omit<PduCommand, "action">;

/** Errors that mean an outlet was left alone on purpose: a PDU-wide command still answers ok. */
const SKIP_CODES = new Set(["protected_outlet", "overload", "cancelled", "too_many_pending"]);

export class CommandExecutor {
  private readonly pending = new Map<
    number,
    { action: PendingAction; abort: AbortController; command: Command }
  >();
  private nextId = 1;
  private stopping = false;

  constructor(private readonly deps: ExecutorDeps) {}

  pendingActions(): PendingAction[] {
    return [...this.pending.values()].map((p) => p.action);
  }

  /**
   * Cancel pending actions by id, by outlet, or all of them; their commands end with a `cancelled` result.
   * The "on" of a protected outlet's cycle is kept unless `force` is set: cancelling it would leave it OFF.
   */
  cancel(filter: { id?: number; outlet?: number }, force = false): { cancelled: number[]; kept: number[] } {
    const hits = [...this.pending.values()].filter(
      (p) =>
        (filter.id === undefined || p.action.id === filter.id) &&
        (filter.outlet === undefined || p.action.outlet === filter.outlet),
    );
    const kept = hits.filter(
      (p) => !force && p.command.action === "cycle" && this.deps.isProtected(p.command.outlet),
    );
    const cancelled = hits.filter((p) => !kept.includes(p));
    for (const p of cancelled) p.abort.abort();
    return { cancelled: cancelled.map((p) => p.action.id), kept: kept.map((p) => p.action.id) };
  }

  /** Switch every outlet on, one by one with their stagger delays (inrush); each step is a pending action. */
  async allOn(delays: readonly number[], command: PduOptions): Promise<ResultPayload> {
    const steps: Promise<ResultPayload>[] = [];
    let at = 0;
    this.deps.store.states().forEach((on, i) => {
      if (on) return;
      const outlet = i + 1;
      const delay = at;
      at += delays[i] ?? 0;
      steps.push(this.execute({ outlet, action: "on", ...(delay > 0 ? { delay } : {}) }));
    });
    return this.combine("all_on", command, await Promise.all(steps));
  }

  /** Switch every outlet off at once; protected ones are skipped (and say so) unless forced. */
  async allOff(command: PduOptions): Promise<ResultPayload> {
    const steps = this.deps.store.states().flatMap((on, i) => {
      if (!on) return [];
      const outlet = i + 1;
      if (this.deps.isProtected(outlet) && command.force !== true)
        return [
          Promise.resolve(
            this.failure(
              { outlet, action: "off" },
              {
                code: "protected_outlet",
                message: `outlet ${outlet} is protected: left ON (use "force": true)`,
              },
            ),
          ),
        ];
      return [this.execute({ outlet, action: "off", ...(command.force === true ? { force: true } : {}) })];
    });
    return this.combine("all_off", command, await Promise.all(steps));
  }

  private combine(action: "all_on" | "all_off", command: PduOptions, steps: ResultPayload[]): ResultPayload {
    const refused = steps.flatMap((r) =>
      r.status === "error" && r.error && r.outlet !== null ? [[String(r.outlet), r.error] as const] : [],
    );
    const skipped = Object.fromEntries(refused.filter(([, e]) => SKIP_CODES.has(e.code)));
    const errors = Object.fromEntries(refused.filter(([, e]) => !SKIP_CODES.has(e.code)));
    const result: ResultPayload = {
      outlet: null,
      command: action,
      status: Object.keys(errors).length === 0 ? "ok" : "error",
    };
    if (command.transaction !== undefined) result.transaction = command.transaction;
    result.outlets = Object.fromEntries(
      this.deps.store.states().map((on, i) => [String(i + 1), formatState(on)]),
    );
    if (Object.keys(skipped).length > 0) result.skipped = skipped;
    if (Object.keys(errors).length > 0) {
      result.errors = errors;
      result.error = {
        code: Object.values(errors)[0]?.code ?? "hardware_error",
        message: `${Object.keys(errors).length} outlet(s) not switched; see "errors"`,
      };
    }
    return result;
  }

  async execute(command: Command): Promise<ResultPayload> {
    if (this.stopping)
      return this.failure(command, { code: "shutting_down", message: "the pdu-agent is stopping" });
    const refusal = this.checkProtection(command);
    if (refusal) return this.failure(command, refusal);
    if (command.action !== "cycle" && command.delay !== undefined && command.delay > 0) {
      const cancelled = await this.waitPending(command, command.delay);
      if (cancelled) return this.failure(command, cancelled);
    }
    return this.deps.queue.run(() => this.apply(command));
  }

  /** Cancel waiting delayed commands (their results say why) and finish a running cycle without waiting. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const p of this.pending.values()) p.abort.abort();
    await this.deps.queue.drain();
  }

  private checkProtection(command: Command): CommandError | null {
    if (!this.deps.isProtected(command.outlet) || command.force === true) return null;
    if (command.action === "off" || command.action === "cycle" || command.action === "toggle") {
      return {
        code: "protected_outlet",
        message: `outlet ${command.outlet} is protected: ${command.action.toUpperCase()} needs "force": true`,
      };
    }
    return null;
  }

  private async waitPending(command: Command, seconds: number): Promise<CommandError | null> {
    const max = this.deps.maxPending ?? Infinity;
    if (this.deps.store.pending().length >= max && command.action !== "cycle") {
      return {
        code: "too_many_pending",
        message: `${max} actions are already pending on this PDU; nothing was switched (cancel some first)`,
      };
    }
    const id = this.nextId++;
    const abort = new AbortController();
    const now = this.deps.now?.() ?? Date.now();
    this.pending.set(id, {
      action: { id, outlet: command.outlet, action: command.action, dueAt: now + seconds * 1000 },
      abort,
      command,
    });
    this.publishPending();
    if (this.stopping) abort.abort(); // registered while stopping: do not wait
    await this.deps.sleep(seconds * 1000, abort.signal);
    this.pending.delete(id);
    this.publishPending();
    if (!abort.signal.aborted) return null;
    return this.stopping
      ? {
          code: "shutting_down",
          message: "the pdu-agent stopped before the delay ran out; nothing was switched",
        }
      : { code: "cancelled", message: "cancelled before the delay ran out; nothing was switched" };
  }

  private publishPending(): void {
    this.deps.store.setPending("command", this.pendingActions());
  }

  private switched(states: boolean[]): void {
    this.deps.store.switched(states, this.deps.now?.() ?? Date.now());
  }

  private async apply(command: Command): Promise<ResultPayload> {
    const { controller, store } = this.deps;
    const n = command.outlet;
    try {
      let states: boolean[];
      switch (command.action) {
        case "on": {
          const refusal = this.deps.refuseOn?.(n) ?? null;
          if (refusal) return this.failure(command, refusal);
          states = await controller.setRelay(n, true);
          break;
        }
        case "off":
          states = await controller.setRelay(n, false);
          break;
        case "toggle": {
          const on = !store.isOn(n);
          if (!on && this.deps.isProtected(n) && command.force !== true) {
            return this.failure(command, {
              code: "protected_outlet",
              message: `outlet ${n} is protected: switching it OFF needs "force": true`,
            });
          }
          const refusal = on ? (this.deps.refuseOn?.(n) ?? null) : null;
          if (refusal) return this.failure(command, refusal);
          states = await controller.setRelay(n, on);
          break;
        }
        case "cycle": {
          states = await controller.setRelay(n, false);
          this.switched(states);
          // The on is a pending action: cancelling it leaves the outlet off; stopping the agent finishes it now.
          const interrupted = await this.waitPending(command, command.delay ?? 0);
          if (interrupted && !this.stopping) {
            const result = this.failure(command, {
              code: "cancelled",
              message: "cycle cancelled after its off; the outlet stays OFF",
            });
            result.state = formatState(states[n - 1] ?? false);
            return result;
          }
          states = await controller.setRelay(n, true);
          break;
        }
      }
      this.switched(states);
      return this.success(command, states[n - 1] ?? false);
    } catch (err) {
      const message = err instanceof HardwareError || err instanceof Error ? err.message : String(err);
      const states = await controller.readRelays().catch(() => null);
      if (states) this.switched(states);
      const result = this.failure(command, {
        code: "hardware_error",
        message: `${message}; state re-read from the hardware`,
      });
      const state = states?.[n - 1];
      if (state !== undefined) result.state = formatState(state);
      return result;
    }
  }

  private success(command: Command, on: boolean): ResultPayload {
    const result: ResultPayload = {
      outlet: command.outlet,
      command: command.action,
      status: "ok",
      state: formatState(on),
    };
    if (command.transaction !== undefined) result.transaction = command.transaction;
    return result;
  }

  private failure(command: Command, error: CommandError): ResultPayload {
    const result: ResultPayload = { outlet: command.outlet, command: command.action, status: "error", error };
    if (command.transaction !== undefined) result.transaction = command.transaction;
    return result;
  }
}

// Power safety around the state store: the budget (refuse an ON that would not fit, alarm on a sustained
// overload, shed), and the relay/load checks, published on the PDU's alarm and per-outlet fault topics.
// A fault is cleared (and `none` published) when its condition ends or the outlet is switched.
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/logger.ts";
import type { CommandError } from "../protocol/commands.ts";
import type { ResultPayload } from "../protocol/payloads.ts";
import type { CommandExecutor } from "./command-executor.ts";
import type { ErrorSink } from "./error-sink.ts";
import type { Feature } from "./feature.ts";
import { LoadChecker } from "./load-checker.ts";
import type { OutletStateStore, StateChange } from "./outlet-state.ts";
import { PowerBudget, type OverloadState } from "./power-budget.ts";
import type { Publisher } from "./publisher.ts";

export type AlarmState = OverloadState & { shed: number[] };

export interface SafetyDeps {
  settings: Settings;
  store: OutletStateStore;
  publisher: Publisher;
  logger: Logger;
  errors: ErrorSink;
  executor: () => CommandExecutor;
  /** Results of shedding go out like any command's. */
  publishResult: (result: ResultPayload) => Promise<void>;
}

export class SafetyMonitor implements Feature {
  readonly name = "safety";
  private readonly budget: PowerBudget;
  private readonly checker: LoadChecker;
  private alarmState: AlarmState | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly deps: SafetyDeps) {
    const { settings, store } = deps;
    const outlets = Array.from({ length: store.outletCount }, (_, i) => settings.outlets[i] ?? {});
    this.budget = new PowerBudget({
      maxCurrent: settings.safety.maxCurrent,
      overloadHoldMs: settings.safety.overloadHold * 1000,
      shed: settings.safety.shed,
      outlets,
    });
    this.checker = new LoadChecker(
      store.outletCount,
      settings.safety.checkWindow * 1000,
      outlets.map((o) => o.loadThreshold ?? settings.safety.loadThreshold),
    );
  }

  /** Why switching this outlet on must be refused now. Called inside the PDU's queue, just before the switch. */
  refuseOn(outlet: number): CommandError | null {
    const { store } = this.deps;
    return this.budget.refuseOn(outlet, store.expected(outlet), store.committedCurrents(), store.states());
  }

  start(): Promise<void> {
    this.unsubscribe = this.deps.store.subscribe((change) => this.changed(change));
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.unsubscribe?.();
    return Promise.resolve();
  }

  announce(): Promise<void> {
    const { publisher, store } = this.deps;
    const { topics, pduId } = publisher;
    return Promise.all([
      publisher.json(topics.alarm(pduId), this.alarmState ?? { active: false }, true),
      ...store.faults().map((fault, i) => publisher.publish(topics.fault(pduId, i + 1), fault, true)),
    ]).then(() => undefined);
  }

  private changed(change: StateChange): void {
    const { store, logger, publisher } = this.deps;
    if (change.kind === "switched") {
      for (const outlet of change.outlets) {
        this.checker.switched(outlet, change.now);
        store.setFault(outlet, "none"); // a new state: the old fault no longer says anything
      }
    } else if (change.kind === "polled") {
      this.polled(change.now);
    } else if (change.kind === "fault") {
      if (change.fault !== "none")
        logger.warn(`outlet ${change.outlet}: ${change.fault.replace("_", " ")}`, { component: "safety" });
      else logger.info(`outlet ${change.outlet}: fault cleared`, { component: "safety" });
      void publisher.publish(publisher.topics.fault(publisher.pduId, change.outlet), change.fault, true);
    }
  }

  private polled(now: number): void {
    const { store, logger, publisher } = this.deps;
    const currents = store.currents();
    const states = store.states();
    for (const [outlet, fault] of this.checker.check(now, currents, states, store.faults()))
      store.setFault(outlet, fault);
    const { changed, shed } = this.budget.check(now, currents, states);
    if (changed) {
      this.alarmState = { ...changed, shed };
      logger.warn(
        `overload ${changed.active ? "raised" : "cleared"}: ${changed.current.toFixed(2)} A of ${changed.limit} A`,
        { component: "safety" },
      );
      void publisher.json(publisher.topics.alarm(publisher.pduId), this.alarmState, true);
    }
    if (shed.length > 0)
      void this.shed(shed).catch((err: unknown) => this.deps.errors.report("shedding", err));
  }

  /** Shed outlets on a sustained overload, through the queue like any command (protected ones never). */
  private async shed(outlets: number[]): Promise<void> {
    for (const outlet of outlets) {
      const result = await this.deps
        .executor()
        .execute({ outlet, action: "off", transaction: "overload-shed" });
      result.source = "shedding";
      this.deps.logger.warn(`overload: shed outlet ${outlet}: ${result.status}`, { component: "safety" });
      await this.deps.publishResult(result);
    }
  }
}

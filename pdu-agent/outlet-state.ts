// The one owner of what the agent knows about its outlets: relay states, currents, learned draw, faults
// and pending actions. The executor writes it after every verified switch, the poll after every read;
// every feature reads it or subscribes to its changes and keeps no copy that could disagree.
import type { PendingAction } from "./command-executor.ts";

export type OutletFault = "none" | "dead_load" | "welded_relay";

export type StateChange =
  | { kind: "switched"; outlets: number[]; now: number }
  | { kind: "polled"; now: number }
  | { kind: "fault"; outlet: number; fault: OutletFault }
  | { kind: "pending" };

type Listener = (change: StateChange) => void;

/** Readings remembered per outlet to learn what it draws. */
const DRAW_MEMORY = 60;

export class OutletStateStore {
  private readonly on: boolean[];
  private readonly amps: number[];
  /** Per outlet: the store version of its last switch; a poll that began before it does not overwrite it. */
  private readonly switchedAt: number[];
  /** Per outlet: a current has been read since it was last switched on. */
  private readonly measured: boolean[];
  private readonly learned: number[][];
  private readonly faultOf: OutletFault[];
  private readonly pendingBySource = new Map<string, PendingAction[]>();
  private readonly listeners = new Set<Listener>();
  private version = 0;

  constructor(
    readonly outletCount: number,
    /** A listener that throws is reported here; the others still hear the change. */
    private readonly onListenerError: (err: unknown) => void = () => undefined,
  ) {
    this.on = new Array<boolean>(outletCount).fill(false);
    this.amps = new Array<number>(outletCount).fill(0);
    this.switchedAt = new Array<number>(outletCount).fill(0);
    this.measured = new Array<boolean>(outletCount).fill(true);
    this.learned = Array.from({ length: outletCount }, () => []);
    this.faultOf = new Array<OutletFault>(outletCount).fill("none");
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  states(): readonly boolean[] {
    return this.on;
  }
  currents(): readonly number[] {
    return this.amps;
  }
  isOn(outlet: number): boolean {
    return this.on[outlet - 1] === true;
  }

  /** The highest recent reading while on: inrush and peaks count; an outlet never seen on expects 0 A. */
  expected(outlet: number): number {
    return Math.max(0, ...(this.learned[outlet - 1] ?? []));
  }

  /**
   * What each outlet counts against the budget now: its reading, or its learned draw when it was switched
   * on after the last reading (so a second ON right after the first cannot pass against the same headroom).
   */
  committedCurrents(): number[] {
    return this.on.map((on, i) =>
      on ? (this.measured[i] ? (this.amps[i] ?? 0) : Math.max(this.amps[i] ?? 0, this.expected(i + 1))) : 0,
    );
  }

  fault(outlet: number): OutletFault {
    return this.faultOf[outlet - 1] ?? "none";
  }
  faults(): readonly OutletFault[] {
    return this.faultOf;
  }

  pending(): PendingAction[] {
    return [...this.pendingBySource.values()].flat();
  }

  /** The relay states read from the firmware at start-up (nothing is switched; no change is announced). */
  init(states: readonly boolean[]): void {
    for (let i = 0; i < this.outletCount; i++) {
      this.on[i] = states[i] ?? false;
      this.measured[i] = !this.on[i];
    }
  }

  /** Relay states as read back after a verified switch (or re-read after a failed one). */
  switched(states: readonly boolean[], now: number): void {
    const outlets: number[] = [];
    this.version++;
    for (let i = 0; i < this.outletCount; i++) {
      const on = states[i] ?? false;
      if (on === this.on[i]) continue;
      this.on[i] = on;
      this.switchedAt[i] = this.version;
      this.measured[i] = !on;
      if (!on) this.amps[i] = 0;
      outlets.push(i + 1);
    }
    if (outlets.length > 0) this.emit({ kind: "switched", outlets, now });
  }

  /** Take before reading the hardware; hand back to polled() so a switch meanwhile is not overwritten. */
  beginRead(): number {
    return this.version;
  }

  polled(token: number, states: readonly boolean[], currents: readonly number[], now: number): void {
    const outlets: number[] = [];
    for (let i = 0; i < this.outletCount; i++) {
      if ((this.switchedAt[i] ?? 0) > token) continue; // switched after this read began: the read is stale
      const on = states[i] ?? false;
      if (on !== this.on[i]) {
        // Switched by something other than a command (the firmware's cold start, a reset).
        this.on[i] = on;
        outlets.push(i + 1);
      }
      // Real readings, also for off outlets: current through an open relay is a fault worth seeing.
      const amps = currents[i] ?? 0;
      this.amps[i] = amps;
      this.measured[i] = true;
      if (on) {
        const history = (this.learned[i] ??= []);
        history.push(amps);
        if (history.length > DRAW_MEMORY) history.shift();
      }
    }
    if (outlets.length > 0) this.emit({ kind: "switched", outlets, now });
    this.emit({ kind: "polled", now });
  }

  setFault(outlet: number, fault: OutletFault): void {
    if (this.faultOf[outlet - 1] === fault || outlet < 1 || outlet > this.outletCount) return;
    this.faultOf[outlet - 1] = fault;
    this.emit({ kind: "fault", outlet, fault });
  }

  /** Pending actions of one source (delayed commands, the firmware's cold start). */
  setPending(source: string, actions: PendingAction[]): void {
    this.pendingBySource.set(source, actions);
    this.emit({ kind: "pending" });
  }

  private emit(change: StateChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}

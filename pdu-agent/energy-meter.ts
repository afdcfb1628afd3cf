// Energy per outlet, integrated from power readings (trapezoidal rule). Counters only ever grow.
export class EnergyMeter {
  private readonly kwh: number[];
  private last: { at: number; watts: number[] } | null = null;

  /** maxGapMs: a longer gap between readings (a stall, a suspended clock) is not integrated. */
  constructor(
    initialKwh: readonly number[],
    private readonly maxGapMs: number,
  ) {
    this.kwh = [...initialKwh];
  }

  add(at: number, watts: readonly number[]): void {
    if (this.last !== null) {
      const dt = at - this.last.at;
      if (dt > 0 && dt <= this.maxGapMs) {
        for (let i = 0; i < watts.length; i++) {
          const average = ((this.last.watts[i] ?? 0) + (watts[i] ?? 0)) / 2;
          if (average > 0) this.kwh[i] = (this.kwh[i] ?? 0) + (average * dt) / 3_600_000_000;
        }
      }
      if (dt <= 0) return; // a clock that went backwards: keep the earlier reading as the reference
    }
    this.last = { at, watts: [...watts] };
  }

  values(): number[] {
    return [...this.kwh];
  }
}

// One PDU's power and current history in fixed memory: ring buffers at three resolutions (1 s for 15 min,
// 1 min for 48 h, 1 h for 90 days). Samples come in once a second with the time passed in (no clock here);
// coarser tiers hold the mean of the samples of their bucket, and the bucket still filling is answered too.
// Series 0 is the PDU total, series n is outlet n.

export interface TierSpec {
  /** Seconds per point. */
  readonly step: number;
  /** Points kept. */
  readonly slots: number;
}

export const DEFAULT_TIERS: readonly TierSpec[] = [
  { step: 1, slots: 15 * 60 },
  { step: 60, slots: 48 * 60 },
  { step: 3600, slots: 90 * 24 },
];

export type Metric = "power" | "current";

/** One resolution: bucket start times and values, plus the running sums of the bucket being filled. */
export class Tier {
  readonly times: Float64Array;
  readonly power: Float32Array;
  readonly current: Float32Array;
  /** Start of the bucket being filled (seconds), or 0. */
  openAt = 0;
  readonly sumPower: Float64Array;
  readonly sumCurrent: Float64Array;
  readonly countPower: Uint32Array;
  readonly countCurrent: Uint32Array;

  constructor(
    readonly spec: TierSpec,
    readonly width: number,
  ) {
    this.times = new Float64Array(spec.slots);
    this.power = new Float32Array(spec.slots * width).fill(Number.NaN);
    this.current = new Float32Array(spec.slots * width).fill(Number.NaN);
    this.sumPower = new Float64Array(width);
    this.sumCurrent = new Float64Array(width);
    this.countPower = new Uint32Array(width);
    this.countCurrent = new Uint32Array(width);
  }

  add(t: number, power: ArrayLike<number>, current: ArrayLike<number>): void {
    const bucket = Math.floor(t / this.spec.step) * this.spec.step;
    if (bucket !== this.openAt) {
      if (bucket < this.openAt) return; // the clock went back: keep what is there
      this.close();
      this.openAt = bucket;
    }
    for (let i = 0; i < this.width; i++) {
      const p = power[i] ?? Number.NaN;
      const c = current[i] ?? Number.NaN;
      if (Number.isFinite(p)) {
        this.sumPower[i] = (this.sumPower[i] ?? 0) + p;
        this.countPower[i] = (this.countPower[i] ?? 0) + 1;
      }
      if (Number.isFinite(c)) {
        this.sumCurrent[i] = (this.sumCurrent[i] ?? 0) + c;
        this.countCurrent[i] = (this.countCurrent[i] ?? 0) + 1;
      }
    }
  }

  /** The value of a series in the bucket starting at `at`: stored, being filled, or null. */
  value(metric: Metric, series: number, at: number): number | null {
    if (at === this.openAt) {
      const count = (metric === "power" ? this.countPower : this.countCurrent)[series] ?? 0;
      const sum = (metric === "power" ? this.sumPower : this.sumCurrent)[series] ?? 0;
      return count > 0 ? sum / count : null;
    }
    const slot = this.slot(at);
    if (this.times[slot] !== at) return null;
    const v = (metric === "power" ? this.power : this.current)[slot * this.width + series] ?? Number.NaN;
    return Number.isFinite(v) ? v : null;
  }

  private close(): void {
    if (this.openAt === 0) return;
    const slot = this.slot(this.openAt);
    this.times[slot] = this.openAt;
    for (let i = 0; i < this.width; i++) {
      const cp = this.countPower[i] ?? 0;
      const cc = this.countCurrent[i] ?? 0;
      this.power[slot * this.width + i] = cp > 0 ? (this.sumPower[i] ?? 0) / cp : Number.NaN;
      this.current[slot * this.width + i] = cc > 0 ? (this.sumCurrent[i] ?? 0) / cc : Number.NaN;
    }
    this.sumPower.fill(0);
    this.sumCurrent.fill(0);
    this.countPower.fill(0);
    this.countCurrent.fill(0);
  }

  private slot(at: number): number {
    return Math.floor(at / this.spec.step) % this.spec.slots;
  }

  get bytes(): number {
    return (
      this.times.byteLength +
      this.power.byteLength +
      this.current.byteLength +
      this.sumPower.byteLength +
      this.sumCurrent.byteLength +
      this.countPower.byteLength +
      this.countCurrent.byteLength
    );
  }
}

export interface HistoryAnswer {
  /** Seconds per point. */
  resolution: number;
  /** [unix seconds, value or null for a gap], oldest first, from the first known point of the range. */
  points: [number, number | null][];
}

export class TieredHistory {
  readonly tiers: Tier[];
  /** Time of the newest sample (seconds), 0 before the first. */
  lastSample = 0;

  constructor(
    /** Series: the total plus one per outlet. */
    readonly width: number,
    specs: readonly TierSpec[] = DEFAULT_TIERS,
  ) {
    this.tiers = specs.map((spec) => new Tier(spec, width));
  }

  /** One sample per series (index 0 the total); NaN where a value is unknown. `t` in seconds. */
  record(t: number, power: ArrayLike<number>, current: ArrayLike<number>): void {
    const second = Math.floor(t);
    if (second <= 0) return;
    // A sampler late by a moment skips a second: hold the value over it rather than leave a false gap.
    if (second - this.lastSample === 2) this.tiers[0]?.add(second - 1, power, current);
    for (const tier of this.tiers) tier.add(second, power, current);
    this.lastSample = Math.max(this.lastSample, second);
  }

  /** The finest tier that covers `rangeSeconds` (or the one with exactly `resolution`), or null. */
  tierFor(rangeSeconds: number, resolution?: number): Tier | null {
    if (resolution !== undefined) return this.tiers.find((t) => t.spec.step === resolution) ?? null;
    return this.tiers.find((t) => t.spec.step * t.spec.slots >= rangeSeconds) ?? this.tiers.at(-1) ?? null;
  }

  query(
    series: number,
    metric: Metric,
    now: number,
    rangeSeconds: number,
    resolution?: number,
  ): HistoryAnswer | null {
    const tier = this.tierFor(rangeSeconds, resolution);
    if (!tier || series < 0 || series >= this.width) return null;
    const step = tier.spec.step;
    const span = Math.min(rangeSeconds, step * tier.spec.slots);
    const last = Math.floor(now / step) * step;
    const first = last - Math.ceil(span / step) * step + step;
    const points: [number, number | null][] = [];
    for (let at = first; at <= last; at += step) {
      const v = tier.value(metric, series, at);
      if (v === null && points.length === 0) continue;
      points.push([at, v === null ? null : Math.round(v * 1000) / 1000]);
    }
    while (points.length > 0 && points.at(-1)?.[1] === null) points.pop();
    return { resolution: step, points };
  }

  get bytes(): number {
    return this.tiers.reduce((sum, t) => sum + t.bytes, 0);
  }
}

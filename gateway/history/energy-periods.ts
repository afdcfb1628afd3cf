// Energy by calendar day in a chosen time zone, from the never-decreasing kWh counters the agent publishes:
// each rise of a counter is added to the day it is seen in (a rise that spans a gateway outage lands on the
// day the gateway sees it again). A counter that goes down (a replaced agent) restarts from its new value.
// Index 0 is the PDU total (the sum of its outlets), n is outlet n. Days older than ~100 are dropped.

const KEEP_DAYS = 100;

export interface PeriodEnergy {
  /** YYYY-MM-DD for a day, YYYY-MM for the month. */
  period: string;
  /** kWh per series: index 0 the total, n outlet n. */
  kwh: number[];
}

export interface EnergySummary {
  timezone: string;
  today: PeriodEnergy;
  yesterday: PeriodEnergy;
  month: PeriodEnergy;
}

export interface EnergyState {
  last: (number | null)[];
  days: Record<string, number[]>;
}

export class EnergyPeriods {
  private readonly last: Float64Array;
  private readonly days = new Map<string, Float64Array>();
  private readonly dateFormat: Intl.DateTimeFormat;

  constructor(
    readonly width: number,
    readonly timezone: string,
  ) {
    this.last = new Float64Array(width).fill(Number.NaN);
    this.dateFormat = new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
  }

  /** The calendar day (YYYY-MM-DD) of a moment in this time zone. */
  dayOf(ms: number): string {
    const parts = this.dateFormat.formatToParts(ms);
    const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? "00";
    return `${get("year")}-${get("month")}-${get("day")}`;
  }

  /** Counters per outlet (index n, NaN where unknown) seen at `ms`. */
  observe(ms: number, counters: ArrayLike<number>): void {
    const day = this.dayOf(ms);
    let bucket = this.days.get(day);
    for (let i = 1; i < this.width; i++) {
      const value = counters[i] ?? Number.NaN;
      if (!Number.isFinite(value)) continue;
      const prev = this.last[i] ?? Number.NaN;
      this.last[i] = value;
      if (!Number.isFinite(prev) || value <= prev) continue;
      if (!bucket) {
        bucket = new Float64Array(this.width);
        this.days.set(day, bucket);
        this.prune();
      }
      bucket[i] = (bucket[i] ?? 0) + (value - prev);
      bucket[0] = (bucket[0] ?? 0) + (value - prev);
    }
  }

  summary(ms: number): EnergySummary {
    const today = this.dayOf(ms);
    const [y, m, d] = today.split("-").map(Number) as [number, number, number];
    const yesterday = new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
    const month = today.slice(0, 7);
    const sum = new Array<number>(this.width).fill(0);
    for (const [day, kwh] of this.days) {
      if (!day.startsWith(month)) continue;
      kwh.forEach((v, i) => (sum[i] = (sum[i] ?? 0) + v));
    }
    return {
      timezone: this.timezone,
      today: { period: today, kwh: this.day(today) },
      yesterday: { period: yesterday, kwh: this.day(yesterday) },
      month: { period: month, kwh: sum.map(round) },
    };
  }

  toJSON(): EnergyState {
    return {
      last: [...this.last].map((v) => (Number.isFinite(v) ? v : null)),
      days: Object.fromEntries([...this.days].map(([day, kwh]) => [day, [...kwh]])),
    };
  }

  /** Restores a saved state; anything malformed in it is skipped. */
  restore(state: unknown): void {
    if (typeof state !== "object" || state === null) return;
    const { last, days } = state as { last?: unknown; days?: unknown };
    if (Array.isArray(last))
      last.slice(0, this.width).forEach((v, i) => {
        if (typeof v === "number" && Number.isFinite(v)) this.last[i] = v;
      });
    if (typeof days === "object" && days !== null) {
      for (const [day, kwh] of Object.entries(days)) {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !Array.isArray(kwh)) continue;
        const bucket = new Float64Array(this.width);
        kwh.slice(0, this.width).forEach((v, i) => {
          if (typeof v === "number" && Number.isFinite(v) && v >= 0) bucket[i] = v;
        });
        this.days.set(day, bucket);
      }
      this.prune();
    }
  }

  private day(key: string): number[] {
    const kwh = this.days.get(key);
    return kwh ? [...kwh].map(round) : new Array<number>(this.width).fill(0);
  }

  private prune(): void {
    if (this.days.size <= KEEP_DAYS) return;
    const keys = [...this.days.keys()].sort();
    for (const key of keys.slice(0, keys.length - KEEP_DAYS)) this.days.delete(key);
  }
}

function round(kwh: number): number {
  return Math.round(kwh * 10000) / 10000;
}

/** The time zone name, checked: the system's when empty. Throws a RangeError for an unknown zone. */
export function resolveTimezone(name: string | null): string {
  if (name === null || name === "") return Intl.DateTimeFormat().resolvedOptions().timeZone;
  return new Intl.DateTimeFormat("en-CA", { timeZone: name }).resolvedOptions().timeZone;
}

// The owner of every PDU's history: once a second it samples the live readings (a PDU that is offline, silent
// or out of reach leaves a gap), keeps them in tiered ring buffers with energy by day, and saves each PDU to
// `<stateDir>/history/<pdu>.bin` off the event loop every few minutes and on stop, so a restart keeps them.
import fs from "node:fs/promises";
import path from "node:path";
import { CoalescedWriter } from "../../lib/durable-file.ts";
import type { Logger } from "../../log/logger.ts";
import { EnergyPeriods, type EnergySummary } from "./energy-periods.ts";
import { decodeHistory, encodeHistory, type PduHistory } from "./history-file.ts";
import {
  DEFAULT_TIERS,
  TieredHistory,
  type HistoryAnswer,
  type Metric,
  type TierSpec,
} from "./tiered-history.ts";

export interface LiveReadings {
  pdu: string;
  /** False while the values cannot be trusted (PDU offline, agent silent, broker out of reach). */
  live: boolean;
  outlets: { number: number; power: number | null; current: number | null; energy: number | null }[];
}

export interface HistoryOptions {
  dir: string;
  readings: () => LiveReadings[];
  timezone: string;
  logger: Logger;
  now?: () => number;
  tiers?: readonly TierSpec[];
  /** Between saves of a PDU's file; a clean stop always saves. */
  saveIntervalMs?: number;
  /** PDUs with a history; beyond, the one heard from least recently is dropped (memory and disk bound). */
  maxPdus?: number;
}

const MAX_OUTLETS = 64;

export class HistoryService {
  private readonly entries = new Map<string, PduHistory>();
  private readonly writers = new Map<string, CoalescedWriter>();
  private readonly dirty = new Set<string>();
  private removals: Promise<unknown>[] = [];
  private tickTimer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly tiers: readonly TierSpec[];

  constructor(private readonly options: HistoryOptions) {
    this.now = options.now ?? Date.now;
    this.tiers = options.tiers ?? DEFAULT_TIERS;
  }

  get timezone(): string {
    return this.options.timezone;
  }

  /** Loads what was saved, then samples every second. */
  async start(): Promise<void> {
    await this.load();
    this.scheduleTick();
    this.saveTimer = setInterval(() => this.saveAll(), this.options.saveIntervalMs ?? 600_000);
  }

  async stop(): Promise<void> {
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.saveTimer) clearInterval(this.saveTimer);
    this.tickTimer = this.saveTimer = null;
    this.saveAll();
    await Promise.all([...this.writers.values()].map((w) => w.flush().catch(() => undefined)));
    await Promise.all(this.removals);
    this.removals = [];
  }

  /** Ticks a tenth into each second, so timer jitter does not skip or double a second. */
  private scheduleTick(): void {
    this.tickTimer = setTimeout(
      () => {
        this.tick();
        this.scheduleTick();
      },
      1100 - (this.now() % 1000),
    );
  }

  /** One sample of every PDU (the timer calls this each second; tests call it with their own clock). */
  tick(): void {
    const ms = this.now();
    for (const pdu of this.options.readings()) {
      if (!pdu.live || pdu.outlets.length === 0) continue;
      const width = Math.min(MAX_OUTLETS, Math.max(...pdu.outlets.map((o) => o.number))) + 1;
      const entry = this.entry(pdu.pdu, width);
      if (!entry) continue;
      const power = new Float64Array(width).fill(Number.NaN);
      const current = new Float64Array(width).fill(Number.NaN);
      const energy = new Float64Array(width).fill(Number.NaN);
      let totalPower = 0;
      let totalCurrent = 0;
      let known = 0;
      for (const o of pdu.outlets) {
        if (o.number < 1 || o.number >= width) continue;
        if (o.power !== null) {
          power[o.number] = o.power;
          totalPower += o.power;
          known++;
        }
        if (o.current !== null) {
          current[o.number] = o.current;
          totalCurrent += o.current;
        }
        if (o.energy !== null) energy[o.number] = o.energy;
      }
      if (known > 0) {
        power[0] = totalPower;
        current[0] = totalCurrent;
      }
      entry.history.record(ms / 1000, power, current);
      entry.energy.observe(ms, energy);
      this.dirty.add(pdu.pdu);
    }
  }

  has(pdu: string): boolean {
    return this.entries.has(pdu);
  }

  /** `series` 0 is the total, n outlet n. Null when the PDU or series has no history. */
  query(
    pdu: string,
    series: number,
    metric: Metric,
    rangeSeconds: number,
    resolution?: number,
  ): HistoryAnswer | null {
    const entry = this.entries.get(pdu);
    if (!entry) return null;
    return entry.history.query(series, metric, this.now() / 1000, rangeSeconds, resolution);
  }

  energy(pdu: string): EnergySummary | null {
    return this.entries.get(pdu)?.energy.summary(this.now()) ?? null;
  }

  /** Memory held by the ring buffers, in bytes. */
  get bytes(): number {
    return [...this.entries.values()].reduce((sum, e) => sum + e.history.bytes, 0);
  }

  private entry(pdu: string, width: number): PduHistory | null {
    let entry = this.entries.get(pdu);
    if (entry && entry.history.width >= width) return entry;
    if (!entry && this.entries.size >= (this.options.maxPdus ?? 32)) this.evictOldest();
    // A new PDU, or one that grew outlets: a fresh history (its energy counters restart from here).
    entry = {
      pdu,
      history: new TieredHistory(width, this.tiers),
      energy: new EnergyPeriods(width, this.options.timezone),
    };
    this.entries.set(pdu, entry);
    return entry;
  }

  private evictOldest(): void {
    const oldest = [...this.entries.values()].sort((a, b) => a.history.lastSample - b.history.lastSample)[0];
    if (!oldest) return;
    this.entries.delete(oldest.pdu);
    this.dirty.delete(oldest.pdu);
    const writer = this.writers.get(oldest.pdu);
    this.writers.delete(oldest.pdu);
    const file = this.file(oldest.pdu);
    this.removals.push(
      (writer?.flush() ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => fs.rm(file, { force: true }))
        .catch(() => undefined),
    );
    this.options.logger.info(
      `history: more than ${this.options.maxPdus ?? 32} PDUs, dropped ${oldest.pdu}'s`,
      {
        component: "gateway",
      },
    );
  }

  private saveAll(): void {
    for (const pdu of this.dirty) {
      const entry = this.entries.get(pdu);
      if (!entry) continue;
      let writer = this.writers.get(pdu);
      if (!writer) {
        writer = new CoalescedWriter(this.file(pdu), {
          onError: (err) =>
            this.options.logger.warn(`history: saving ${pdu} failed: ${(err as Error).message}`, {
              component: "gateway",
            }),
        });
        this.writers.set(pdu, writer);
      }
      writer.schedule(() => encodeHistory(entry));
    }
    this.dirty.clear();
  }

  private file(pdu: string): string {
    return path.join(this.options.dir, `${pdu}.bin`);
  }

  private async load(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.options.dir);
    } catch {
      return; // nothing saved yet
    }
    for (const name of names.filter((n) => /^[a-z0-9_-]{1,64}\.bin$/.test(n))) {
      try {
        const entry = decodeHistory(
          await fs.readFile(path.join(this.options.dir, name)),
          this.tiers,
          this.options.timezone,
        );
        if (entry && `${entry.pdu}.bin` === name) this.entries.set(entry.pdu, entry);
        else
          this.options.logger.warn(`history: ${name} is not a history file; ignored`, {
            component: "gateway",
          });
      } catch (err) {
        this.options.logger.warn(`history: cannot read ${name}: ${(err as Error).message}`, {
          component: "gateway",
        });
      }
    }
    while (this.entries.size > (this.options.maxPdus ?? 32)) this.evictOldest();
  }
}

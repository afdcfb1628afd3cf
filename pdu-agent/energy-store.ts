// Energy counters on disk: the file and the copy it replaced (.bak), each written atomically off the event
// loop, so a crash in the middle of a save loses at most one save interval and never yields a lower counter.
// Loading checks every value; an unreadable copy is set aside (renamed, never silently zeroed) and the error
// names the file and the value. Only when no copy can be used do the counters start again from 0, and the
// caller is told so it can announce it.
import fs from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../lib/durable-file.ts";

interface EnergyFile {
  version: 1;
  savedAt: string;
  kwh: Record<string, number>;
}

export interface LoadedEnergy {
  kwh: number[];
  /** One line per copy that could not be used: the file, what was wrong, where it was set aside. */
  problems: string[];
  /** Set when copies existed but none could be used: the counters restart at 0. */
  reset: string | null;
}

type ReadOutcome =
  | { ok: true; data: EnergyFile }
  | { ok: false; missing: true }
  | { ok: false; missing: false; reason: string };

/** Why this parsed content is not an energy file, or null when every value is right. */
export function energyFileProblem(data: unknown): string | null {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return "not a JSON object";
  const d = data as Record<string, unknown>;
  if (d["version"] !== 1)
    return `"version" is ${d["version"] === undefined ? "missing" : JSON.stringify(d["version"])}; expected 1`;
  const kwh = d["kwh"];
  if (typeof kwh !== "object" || kwh === null || Array.isArray(kwh)) return `"kwh" is not an object`;
  for (const [key, value] of Object.entries(kwh as Record<string, unknown>)) {
    if (!/^(?:[1-9]|1[0-6])$/.test(key))
      return `"kwh" has key "${key.slice(0, 20)}"; expected outlet numbers 1 to 16`;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
      return `kwh["${key}"] is ${value === undefined ? "undefined" : JSON.stringify(value)}; expected a number of kWh ≥ 0`;
  }
  return null;
}

export class EnergyStore {
  readonly file: string;
  private previous: string | null = null;
  private chain: Promise<void> = Promise.resolve();
  private next: number[] | null = null;

  constructor(stateDir: string, pduId: string) {
    this.file = path.join(stateDir, `energy-${pduId}.json`);
  }

  /** Counters for outlets 1..count; for each outlet the highest value found in the file and its backup. */
  async load(count: number): Promise<LoadedEnergy> {
    const files = [this.file, `${this.file}.bak`];
    const outcomes = await Promise.all(files.map((f) => this.read(f)));
    const usable = outcomes.flatMap((o) => (o.ok ? [o.data] : []));
    const problems: string[] = [];
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.ok || outcome.missing) continue;
      const file = files[i] ?? "";
      const aside = `${file}.corrupt-${stamp}`;
      await fs.rename(file, aside).catch(() => undefined);
      problems.push(`${file}: ${outcome.reason}; set aside as ${path.basename(aside)}`);
    }
    const kwh = Array.from({ length: count }, (_, i) =>
      Math.max(0, ...usable.map((s) => s.kwh[String(i + 1)] ?? 0)),
    );
    const newest = usable[0];
    if (newest) this.previous = render(newest.kwh);
    return {
      kwh,
      problems,
      reset: usable.length === 0 && problems.length > 0 ? problems.join("; ") : null,
    };
  }

  /**
   * Save the counters (the copy they replace becomes the .bak). Saves are serialised and coalesced: while one
   * runs, only the newest values wait. Resolves once these values (or newer ones) are on disk.
   */
  save(kwh: readonly number[]): Promise<void> {
    const first = this.next === null;
    this.next = [...kwh];
    if (!first) return this.chain;
    this.chain = this.chain
      .catch(() => undefined)
      .then(async () => {
        const values = this.next ?? [];
        this.next = null;
        const text = render(Object.fromEntries(values.map((v, i) => [String(i + 1), v])));
        if (this.previous !== null) await writeFileAtomic(`${this.file}.bak`, this.previous);
        await writeFileAtomic(this.file, text);
        this.previous = text;
      });
    return this.chain;
  }

  private async read(file: string): Promise<ReadOutcome> {
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: false, missing: true };
      return { ok: false, missing: false, reason: `cannot be read (${(err as Error).message})` };
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return { ok: false, missing: false, reason: "not valid JSON (torn or foreign content)" };
    }
    const problem = energyFileProblem(data);
    return problem === null
      ? { ok: true, data: data as EnergyFile }
      : { ok: false, missing: false, reason: problem };
  }
}

function render(kwh: Record<string, number>): string {
  const data: EnergyFile = { version: 1, savedAt: new Date().toISOString(), kwh };
  return `${JSON.stringify(data, null, 1)}\n`;
}

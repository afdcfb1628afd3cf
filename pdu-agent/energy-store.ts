// Energy counters on disk: written atomically (temp file + rename), the previous copy kept as .bak, so a
// crash in the middle of a save loses at most one save interval and never yields a lower counter.
import fs from "node:fs";
import path from "node:path";
import { readJsonSync, writeFileAtomicSync } from "../lib/atomic-file.ts";

interface EnergyFile {
  version: 1;
  savedAt: string;
  kwh: Record<string, number>;
}

export class EnergyStore {
  readonly file: string;

  constructor(stateDir: string, pduId: string) {
    this.file = path.join(stateDir, `energy-${pduId}.json`);
  }

  /** Counters for outlets 1..count; for each outlet the highest value found in the file and its backup. */
  load(count: number): number[] {
    const sources = [this.read(this.file), this.read(`${this.file}.bak`)];
    return Array.from({ length: count }, (_, i) =>
      Math.max(0, ...sources.map((s) => s?.kwh[String(i + 1)] ?? 0).filter((v) => Number.isFinite(v))),
    );
  }

  save(kwh: readonly number[]): void {
    const data: EnergyFile = {
      version: 1,
      savedAt: new Date().toISOString(),
      kwh: Object.fromEntries(kwh.map((v, i) => [String(i + 1), v])),
    };
    if (fs.existsSync(this.file)) fs.copyFileSync(this.file, `${this.file}.bak`);
    writeFileAtomicSync(this.file, `${JSON.stringify(data, null, 1)}\n`);
  }

  private read(file: string): EnergyFile | null {
    try {
      const data = readJsonSync(file) as Partial<EnergyFile> | null;
      if (data?.version !== 1 || typeof data.kwh !== "object") return null;
      return data as EnergyFile;
    } catch {
      return null; // torn or foreign content: the other copy decides
    }
  }
}

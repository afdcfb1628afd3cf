// What was last published as discovery, kept in the state directory so that a restart with fewer outlets
// (or other options) still knows which components to remove, and an unchanged payload is not sent again.
import fs from "node:fs";
import path from "node:path";
import { readJsonSync, writeFileAtomicSync } from "../lib/atomic-file.ts";
import type { Platform } from "./discovery-payload.ts";

export interface PublishedDiscovery {
  topic: string;
  /** Component id → platform, of what HA now holds. */
  components: Record<string, Platform>;
  /** The payload without one-off removal entries: the copy an unchanged configuration is compared with. */
  payload: string;
}

export class DiscoveryStore {
  readonly file: string;

  constructor(stateDir: string, pduId: string) {
    this.file = path.join(stateDir, `ha-discovery-${pduId}.json`);
  }

  load(): PublishedDiscovery | null {
    try {
      const data = readJsonSync(this.file) as (Partial<PublishedDiscovery> & { version?: number }) | null;
      if (
        data?.version !== 1 ||
        typeof data.topic !== "string" ||
        typeof data.payload !== "string" ||
        typeof data.components !== "object"
      )
        return null;
      return { topic: data.topic, components: data.components, payload: data.payload };
    } catch {
      return null; // unreadable: the next publish is sent in full and rewrites it
    }
  }

  save(published: PublishedDiscovery): void {
    writeFileAtomicSync(this.file, `${JSON.stringify({ version: 1, ...published })}\n`);
  }

  clear(): void {
    fs.rmSync(this.file, { force: true });
  }
}

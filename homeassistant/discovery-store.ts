// What was last published as discovery, kept in the state directory so that a restart with fewer outlets
// (or other options) still knows which components to remove, and an unchanged payload is not sent again.
// Written off the event loop (lib/durable-file.ts), coalesced.
import fs from "node:fs/promises";
import path from "node:path";
import { CoalescedWriter, readJson } from "../lib/durable-file.ts";
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
  private readonly writer: CoalescedWriter;

  constructor(stateDir: string, pduId: string) {
    this.file = path.join(stateDir, `ha-discovery-${pduId}.json`);
    this.writer = new CoalescedWriter(this.file);
  }

  async load(): Promise<PublishedDiscovery | null> {
    try {
      const data = (await readJson(this.file)) as (Partial<PublishedDiscovery> & { version?: number }) | null;
      if (
        data?.version !== 1 ||
        typeof data.topic !== "string" ||
        typeof data.payload !== "string" ||
        typeof data.components !== "object" ||
        (data.components as unknown) === null
      )
        return null;
      return { topic: data.topic, components: data.components, payload: data.payload };
    } catch {
      return null; // unreadable: the next publish is sent in full and rewrites it
    }
  }

  async save(published: PublishedDiscovery): Promise<void> {
    this.writer.schedule(() => `${JSON.stringify({ version: 1, ...published })}\n`);
    await this.writer.flush();
  }

  async clear(): Promise<void> {
    await this.writer.flush();
    await fs.rm(this.file, { force: true });
  }
}

// Crash-safe file persistence off the event loop: temp file, fsync, rename, all through the
// promise API (libuv's thread pool), and writes coalesced so a burst of changes costs one write.
import fs from "node:fs/promises";
import path from "node:path";

/** Write a file so a crash at any instant leaves either the old or the new content, never a torn one. */
export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  options: { createDir?: boolean } = {},
): Promise<void> {
  if (options.createDir ?? true) await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  const handle = await fs.open(tmp, "w");
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Parsed JSON, or null when the file is missing. Throws on a file that exists but cannot be parsed. */
export async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  return JSON.parse(text) as unknown;
}

export interface CoalescedWriterOptions {
  /** Wait this long after the first change before writing, so a burst becomes one write. */
  readonly delayMs?: number;
  /** Called when a write fails; the writer keeps the content and retries on the next change or flush. */
  readonly onError?: (err: unknown) => void;
}

/**
 * Owns one file: `schedule(render)` marks it dirty; at most one write runs at a time, and the
 * newest content is rendered when the write starts, so N changes during a write cost one more
 * write, not N. `flush()` resolves once everything scheduled before it is on disk.
 */
export class CoalescedWriter {
  private readonly delayMs: number;
  private readonly onError: (err: unknown) => void;
  private render: (() => string | Uint8Array) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private writes = 0;
  /** The directory existed at the last successful write: later writes skip the mkdir (one system call less). */
  private dirReady = false;

  constructor(
    readonly file: string,
    options: CoalescedWriterOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 0;
    this.onError = options.onError ?? (() => undefined);
  }

  /** How many writes reached the disk (for tests and diagnostics). */
  get writeCount(): number {
    return this.writes;
  }

  schedule(render: () => string | Uint8Array): void {
    this.render = render;
    if (this.timer !== null || this.running !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.drain();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Write what is pending now (skipping the delay) and wait until it is on disk; rejects if that write fails. */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running !== null) await this.running;
    if (this.render === null) return;
    const render = this.render;
    this.render = null;
    await this.write(render());
  }

  private async write(content: string | Uint8Array): Promise<void> {
    try {
      await writeFileAtomic(this.file, content, { createDir: !this.dirReady });
    } catch (err) {
      this.dirReady = false;
      throw err;
    }
    this.dirReady = true;
    this.writes++;
  }

  private drain(): Promise<void> {
    if (this.running !== null) return this.running;
    const render = this.render;
    if (render === null) return Promise.resolve();
    this.render = null;
    this.running = (async () => {
      try {
        await this.write(render());
      } catch (err) {
        this.render ??= render;
        this.onError(err);
        return;
      } finally {
        this.running = null;
      }
      if (this.render !== null && this.timer === null) await this.drain();
    })();
    return this.running;
  }
}

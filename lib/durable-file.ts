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
    this.arm();
  }

  /** The next write, `delayMs` from now: changes arriving meanwhile are coalesced into it. */
  private arm(): void {
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
    while (this.running !== null) await this.running;
    if (this.render === null) return;
    await this.start(true);
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
    if (this.render === null) return Promise.resolve();
    return this.start(false);
  }

  /**
   * The one write in progress (`running` until it ends, for flush and drain alike, so two writes never race
   * to rename). A failed write keeps its content pending; `flush` rethrows, a timed write reports it.
   */
  private start(rethrow: boolean): Promise<void> {
    const render = this.render;
    if (render === null) return Promise.resolve();
    this.render = null;
    const work = (async () => {
      await Promise.resolve(); // the body runs once `running` below is set, even if render() throws at once
      let failed = false;
      try {
        await this.write(render());
      } catch (err) {
        failed = true;
        this.render ??= render;
        if (rethrow) throw err;
        this.onError(err);
      } finally {
        this.running = null;
        // Changes made during the write wait their delay like any other: under a steady stream of changes
        // the file is rendered and written once per delay, not back to back (which kept the broker's event
        // loop busy re-encoding its retained store). After a failure, the next change tries again.
        if (!failed && this.render !== null && this.timer === null) this.arm();
      }
    })();
    this.running = work.catch(() => undefined);
    return work;
  }
}

export interface InPlaceRecordOptions {
  /** The record's fixed size in bytes (content is padded with spaces and a newline). */
  readonly size: number;
  /** fdatasync this long after the first unsynced write, so a burst of changes costs one sync. */
  readonly syncDelayMs?: number;
  readonly onError?: (err: unknown) => void;
}

/**
 * A small record kept in place, for state that must survive the process being killed at any instant
 * right after a change (the simulator's relays: the firmware keeps them when the Pi's agent dies). Each
 * `put()` is one positioned write into an open file — once it resolves the kernel has it, whatever happens
 * to the process — and an fdatasync follows, coalesced, for a power cut. The record is one small write at
 * offset 0 that never changes the file's length (a single sector: the disk writes it whole or not at all).
 */
export class InPlaceRecord {
  private readonly size: number;
  private readonly syncDelayMs: number;
  private readonly onError: (err: unknown) => void;
  private handle: Promise<fs.FileHandle> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private syncTimer: NodeJS.Timeout | null = null;
  private dirty = false;
  private sized = false;

  constructor(
    readonly file: string,
    options: InPlaceRecordOptions,
  ) {
    if (options.size > 512) throw new RangeError("an in-place record fits one 512-byte sector");
    this.size = options.size;
    this.syncDelayMs = options.syncDelayMs ?? 1000;
    this.onError = options.onError ?? (() => undefined);
  }

  /** Resolves once the kernel holds `content` (padded to the record's size); rejects if it does not fit. */
  put(content: string): Promise<void> {
    const bytes = Buffer.alloc(this.size, " ");
    const written = bytes.write(content, 0, "utf8");
    if (written !== Buffer.byteLength(content) || written >= this.size)
      return Promise.reject(
        new RangeError(`record of ${content.length} characters exceeds ${this.size - 1}`),
      );
    bytes[this.size - 1] = 0x0a;
    const next = this.chain.then(async () => {
      const handle = await this.open();
      await handle.write(bytes, 0, bytes.length, 0);
      if (!this.sized) {
        await handle.truncate(this.size); // a longer file from before loses its tail, after the record is whole
        this.sized = true;
      }
      this.dirty = true;
      this.scheduleSync();
    });
    this.chain = next.catch((err: unknown) => this.onError(err));
    return next;
  }

  /** Everything put so far on disk (fdatasync), and the file closed. */
  async close(): Promise<void> {
    if (this.syncTimer !== null) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    await this.chain;
    const handle = this.handle;
    this.handle = null;
    if (handle === null) return;
    const h = await handle;
    try {
      if (this.dirty) await h.datasync();
    } finally {
      await h.close();
    }
  }

  private open(): Promise<fs.FileHandle> {
    this.handle ??= (async () => {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      // "a+" would append; "r+" keeps what is there and fails on a missing file, created here first.
      return fs.open(this.file, "r+").catch(() => fs.open(this.file, "w+"));
    })();
    return this.handle;
  }

  private scheduleSync(): void {
    if (this.syncTimer !== null) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      this.chain = this.chain
        .then(async () => {
          if (!this.dirty || this.handle === null) return;
          this.dirty = false;
          await (await this.handle).datasync();
        })
        .catch((err: unknown) => this.onError(err));
    }, this.syncDelayMs);
    this.syncTimer.unref();
  }
}

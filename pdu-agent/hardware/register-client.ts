// Framing, CRC, retries and write confirmation for the piPDU register protocol (docs/i2c-protocol.md).
// The same code runs against the real Mega, the host-built firmware and the simulator.
import { crc8 } from "../../protocol/crc8.ts";
import { MAX_READ, MAX_WRITE, Reg, WriteStatus } from "../../protocol/register-map.ts";
import { I2cError, type I2cBus } from "../../lib/i2c-bus.ts";

export interface LinkCounters {
  transactions: number;
  crcErrors: number;
  nacks: number;
  ioErrors: number;
  shortReads: number;
  retries: number;
  failures: number;
}

export function noLinkCounters(): LinkCounters {
  return { transactions: 0, crcErrors: 0, nacks: 0, ioErrors: 0, shortReads: 0, retries: 0, failures: 0 };
}

export type LinkErrorCode = "crc" | "nack" | "io" | "short_read" | "rejected" | "closed";

export class LinkError extends Error {
  constructor(
    readonly code: LinkErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "LinkError";
  }
}

export interface RegisterClientOptions {
  /** Attempts after the first one. */
  retries?: number;
  /** Backoff before retry k (ms); the last value repeats. */
  backoffMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

const WRITE_STATUS_NAMES = Object.fromEntries(Object.entries(WriteStatus).map(([k, v]) => [v, k]));

export class RegisterClient {
  readonly counters: LinkCounters = noLinkCounters();
  private readonly retries: number;
  private readonly backoffMs: readonly number[];
  private readonly sleep: (ms: number) => Promise<void>;
  /** Transactions are strictly one at a time: a read is two bus transactions that must not interleave. */
  private chain: Promise<unknown> = Promise.resolve();
  private lastSeq: number | null = null;

  constructor(
    private readonly bus: I2cBus,
    readonly address: number,
    options: RegisterClientOptions = {},
  ) {
    this.retries = options.retries ?? 4;
    this.backoffMs = options.backoffMs ?? [1, 5, 20, 50];
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  read(reg: number, length: number): Promise<Uint8Array> {
    if (length < 1 || length > MAX_READ) throw new RangeError(`read length ${length} outside 1..${MAX_READ}`);
    // For a few (register, length) pairs the CRC over address, register and length is 0, so an all-zero
    // reply would validate. Asking for a different length keeps the "all zeros never pass" property.
    if (crc8([(this.address << 1) | 1, reg, length]) === 0) {
      if (length < MAX_READ) return this.read(reg, length + 1).then((b) => b.subarray(0, length));
      return Promise.all([this.read(reg, length - 1), this.read(reg + length - 1, 1)]).then(([a, b]) =>
        Uint8Array.of(...a, ...b),
      );
    }
    return this.serial(() => this.withRetries(() => this.readOnce(reg, length)));
  }

  /** Write and confirm through LAST_WRITE/WRITE_SEQ that the firmware accepted the frame. */
  write(reg: number, data: Uint8Array): Promise<void> {
    if (data.length < 1 || data.length > MAX_WRITE)
      throw new RangeError(`write length ${data.length} outside 1..${MAX_WRITE}`);
    return this.serial(() => this.withRetries(() => this.writeOnce(reg, data)));
  }

  async readU16(reg: number): Promise<number> {
    const b = await this.read(reg, 2);
    return (b[0] ?? 0) | ((b[1] ?? 0) << 8);
  }

  writeU16(reg: number, value: number): Promise<void> {
    return this.write(reg, Uint8Array.of(value & 0xff, (value >> 8) & 0xff));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const retryable = err instanceof LinkError && err.code !== "closed";
        if (!retryable || attempt >= this.retries) {
          this.counters.failures++;
          throw err;
        }
        this.counters.retries++;
        await this.sleep(this.backoffMs[Math.min(attempt, this.backoffMs.length - 1)] ?? 50);
      }
    }
  }

  private async transact<T>(fn: () => Promise<T>): Promise<T> {
    this.counters.transactions++;
    try {
      return await fn();
    } catch (err) {
      if (err instanceof I2cError) {
        if (err.code === "nack") this.counters.nacks++;
        else if (err.code === "io") this.counters.ioErrors++;
        throw new LinkError(err.code === "closed" ? "closed" : err.code, err.message);
      }
      this.counters.ioErrors++;
      throw new LinkError("io", (err as Error).message);
    }
  }

  private async readOnce(reg: number, length: number): Promise<Uint8Array> {
    await this.transact(() => this.bus.write(this.address, Uint8Array.of(reg, length)));
    const reply = await this.transact(() => this.bus.read(this.address, length + 1));
    if (reply.length < length + 1) {
      this.counters.shortReads++;
      throw new LinkError("short_read", `register 0x${hex(reg)}: ${reply.length} of ${length + 1} bytes`);
    }
    const data = reply.subarray(0, length);
    const expected = crc8([(this.address << 1) | 1, reg, length, ...data]);
    if (reply[length] !== expected) {
      this.counters.crcErrors++;
      throw new LinkError(
        "crc",
        `register 0x${hex(reg)}: CRC 0x${hex(reply[length] ?? 0)}, expected 0x${hex(expected)}`,
      );
    }
    return Uint8Array.from(data);
  }

  private async writeOnce(reg: number, data: Uint8Array): Promise<void> {
    // WRITE_SEQ as the last confirmed write left it saves a read per write (two transactions, which
    // matter at a 10 kHz bus clock). Any doubt (an error, a firmware reset) forgets it: the write is then
    // retried with a fresh read, and every write the driver makes is idempotent.
    const seq = this.lastSeq;
    this.lastSeq = null;
    const before = seq ?? (await this.readOnce(Reg.LAST_WRITE, 2))[1] ?? 0;
    const frame = Uint8Array.of(reg, data.length, ...data, 0);
    frame[frame.length - 1] = crc8([this.address << 1, ...frame.subarray(0, frame.length - 1)]);
    await this.transact(() => this.bus.write(this.address, frame));
    const after = await this.readOnce(Reg.LAST_WRITE, 2);
    const status = after[0] ?? 0;
    const accepted = (after[1] ?? 0) === ((before + 1) & 0xff);
    if (accepted && status === WriteStatus.OK) {
      this.lastSeq = after[1] ?? 0;
      return;
    }
    // Not taken. LAST_WRITE may belong to an earlier frame if ours never arrived, so every refusal is
    // retried; a refusal that persists through all retries is reported with its reason.
    if (status === WriteStatus.BAD_CRC) {
      this.counters.crcErrors++;
      throw new LinkError("crc", `write to 0x${hex(reg)} arrived corrupted (BAD_CRC)`);
    }
    throw new LinkError(
      "rejected",
      `write to 0x${hex(reg)} not taken: ${WRITE_STATUS_NAMES[status] ?? status}`,
    );
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}

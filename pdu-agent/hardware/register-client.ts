// Framing, CRC, retries and write confirmation for the piPDU register protocol (docs/i2c-protocol.md).
// The same code runs against the real Mega, the host-built firmware and the simulator.
import { crc8 } from "../../protocol/crc8.ts";
import { MAX_READ, MAX_WRITE, RECEIPT_LEN, Reg, WriteStatus } from "../../protocol/register-map.ts";
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
  /** The firmware points the read pointer at a write's receipt (protocol 2 and later); default true. */
  receipts?: boolean;
}

/** Offsets in a write's receipt (RECEIPT_LEN bytes from LAST_WRITE). */
export const Receipt = {
  STATUS: 0,
  SEQ: Reg.WRITE_SEQ - Reg.LAST_WRITE,
  RELAY_STATE: Reg.RELAY_STATE - Reg.LAST_WRITE,
} as const;

const WRITE_STATUS_NAMES = Object.fromEntries(Object.entries(WriteStatus).map(([k, v]) => [v, k]));

export class RegisterClient {
  readonly counters: LinkCounters = noLinkCounters();
  private readonly retries: number;
  private readonly backoffMs: readonly number[];
  private readonly sleep: (ms: number) => Promise<void>;
  /** Transactions are strictly one at a time: a read is two bus transactions that must not interleave. */
  private chain: Promise<unknown> = Promise.resolve();
  private lastSeq: number | null = null;
  /** Read receipts without a pointer transaction. describe() turns it off for protocol 1 firmware. */
  receipts: boolean;

  constructor(
    private readonly bus: I2cBus,
    readonly address: number,
    options: RegisterClientOptions = {},
  ) {
    this.retries = options.retries ?? 4;
    this.backoffMs = options.backoffMs ?? [1, 5, 20, 50];
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    // An address for which an all-zero receipt would carry a valid CRC reads it with a pointer instead.
    this.receipts =
      (options.receipts ?? true) && crc8([(address << 1) | 1, Reg.LAST_WRITE, RECEIPT_LEN]) !== 0;
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

  /**
   * Write and confirm through LAST_WRITE/WRITE_SEQ that the firmware accepted the frame. Resolves with the
   * write's receipt (RECEIPT_LEN bytes from LAST_WRITE, offsets in `Receipt`), which includes RELAY_STATE.
   */
  write(reg: number, data: Uint8Array): Promise<Uint8Array> {
    if (data.length < 1 || data.length > MAX_WRITE)
      throw new RangeError(`write length ${data.length} outside 1..${MAX_WRITE}`);
    return this.serial(() => this.withRetries(() => this.writeOnce(reg, data)));
  }

  async readU16(reg: number): Promise<number> {
    const b = await this.read(reg, 2);
    return (b[0] ?? 0) | ((b[1] ?? 0) << 8);
  }

  writeU16(reg: number, value: number): Promise<Uint8Array> {
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
    return this.readReply(reg, length);
  }

  /** The data read of a register read whose pointer is already set: data and CRC, checked. */
  private async readReply(reg: number, length: number): Promise<Uint8Array> {
    const reply = await this.transact(() => this.bus.read(this.address, length + 1));
    if (reply.length < length + 1) {
      this.counters.shortReads++;
      throw new LinkError("short_read", `register 0x${hex(reg)}: ${reply.length} of ${length + 1} bytes`);
    }
    const data = reply.subarray(0, length);
    const expected = crc8(data, crc8([(this.address << 1) | 1, reg, length]));
    if (reply[length] !== expected) {
      this.counters.crcErrors++;
      throw new LinkError(
        "crc",
        `register 0x${hex(reg)}: CRC 0x${hex(reply[length] ?? 0)}, expected 0x${hex(expected)}`,
      );
    }
    return Uint8Array.from(data);
  }

  private async writeOnce(reg: number, data: Uint8Array): Promise<Uint8Array> {
    // WRITE_SEQ as the last confirmed write left it saves a read per write. Any doubt (an error, a firmware
    // reset) forgets it: the write is then retried with a fresh read, and every write the driver makes is
    // idempotent. The firmware leaves the read pointer on the frame's receipt, so with a known sequence a
    // write is two transactions: the frame and one read that confirms it and carries RELAY_STATE. A lost
    // frame leaves the pointer elsewhere, and the receipt's CRC (over register and length) then fails.
    const seq = this.lastSeq;
    this.lastSeq = null;
    const before = seq ?? (await this.readOnce(Reg.LAST_WRITE, 2))[1] ?? 0;
    const frame = new Uint8Array(data.length + 3);
    frame[0] = reg;
    frame[1] = data.length;
    frame.set(data, 2);
    frame[frame.length - 1] = crc8(frame.subarray(0, frame.length - 1), crc8([this.address << 1]));
    await this.transact(() => this.bus.write(this.address, frame));
    const receipt = this.receipts
      ? await this.readReply(Reg.LAST_WRITE, RECEIPT_LEN)
      : await this.readOnce(Reg.LAST_WRITE, RECEIPT_LEN);
    const status = receipt[Receipt.STATUS] ?? 0;
    const after = receipt[Receipt.SEQ] ?? 0;
    const accepted = after === ((before + 1) & 0xff);
    if (accepted && status === WriteStatus.OK) {
      this.lastSeq = after;
      return receipt;
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

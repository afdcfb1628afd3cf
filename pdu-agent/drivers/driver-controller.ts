// A network or command-line PDU as an OutletController. The device side (DeviceIo) only switches and reads;
// this class adds what PDUDaemon's runner does (`retries` attempts, `retrydelay` seconds apart) and what
// it lacks: every switch is read back where the device can say, and otherwise the state piPDU last set is kept.
import { CoalescedWriter, readJson } from "../../lib/durable-file.ts";
import { realSleep, type Sleep } from "../../lib/sleep.ts";
import { HardwareError, type HardwareInfo, type OutletController } from "../hardware/outlet-controller.ts";
import { noLinkCounters, type LinkCounters } from "../hardware/register-client.ts";

/**
 * No outlet of a rack PDU carries more; a higher figure is a device's garbage, and taken as a reading it would
 * fill the energy counters (which never go back) and trip the overload budget.
 */
const MAX_OUTLET_AMPS = 100;

export interface DeviceIo {
  /** Switch one outlet (1-based); resolves once the device accepted it. */
  switch(outlet: number, on: boolean): Promise<void>;
  /** Every outlet's state as the device reports it, null where it cannot say. Absent: a write-only device. */
  read?(): Promise<(boolean | null)[]>;
  /** RMS current per outlet in amperes, where the device measures it. */
  currents?(): Promise<number[]>;
  close?(): Promise<void>;
}

export interface DriverControllerOptions {
  driver: string;
  /** Where the device is, for logs and `info` (no secrets). */
  address: string;
  outletCount: number;
  /** Attempts per switch (PDUDaemon `retries`). */
  retries: number;
  /** Seconds between attempts (PDUDaemon `retrydelay`). */
  retryDelay: number;
  /** Where the states piPDU set are kept, so a write-only device shows them again after a restart. */
  stateFile?: string;
  sleep?: Sleep;
}

export class DriverController implements OutletController {
  readonly outletCount: number;
  private readonly known: boolean[];
  private readonly saved: CoalescedWriter | null;
  private loaded = false;
  private readonly closing = new AbortController();
  private readonly stats: LinkCounters = noLinkCounters();

  constructor(
    private readonly io: DeviceIo,
    private readonly options: DriverControllerOptions,
  ) {
    this.outletCount = options.outletCount;
    this.known = new Array<boolean>(options.outletCount).fill(false);
    this.saved = options.stateFile === undefined ? null : new CoalescedWriter(options.stateFile);
  }

  async describe(): Promise<HardwareInfo> {
    await this.load();
    return {
      kind: "driver",
      firmwareVersion: `${this.options.driver} ${this.options.address}`,
      protocolVersion: 0,
      outletCount: this.outletCount,
      resetCause: "none",
    };
  }

  readRelays(): Promise<boolean[]> {
    return this.readStates().catch(this.named);
  }

  private async readStates(): Promise<boolean[]> {
    await this.load();
    if (!this.io.read) return [...this.known];
    const states = await this.counted(() => this.io.read?.() ?? Promise.resolve([]));
    for (let i = 0; i < this.outletCount; i++) {
      const state = states[i];
      if (typeof state === "boolean") this.known[i] = state;
    }
    return [...this.known];
  }

  async setRelay(outlet: number, on: boolean): Promise<boolean[]> {
    if (!Number.isInteger(outlet) || outlet < 1 || outlet > this.outletCount)
      throw new HardwareError("link", `outlet ${String(outlet)} is not 1 to ${this.outletCount}`);
    let last: unknown = null;
    for (let attempt = 1; attempt <= this.options.retries; attempt++) {
      if (attempt > 1) {
        this.stats.retries++;
        await (this.options.sleep ?? realSleep)(this.options.retryDelay * 1000, this.closing.signal);
        if (this.closing.signal.aborted) break;
      }
      try {
        await this.counted(() => this.io.switch(outlet, on));
        this.known[outlet - 1] = on;
        this.saved?.schedule(() => JSON.stringify(this.known));
        const states = await this.readStates();
        if (states[outlet - 1] !== on)
          throw new HardwareError(
            "unverified",
            `${this.options.driver} ${this.options.address}: outlet ${outlet} reads back ${on ? "OFF" : "ON"}`,
          );
        return states;
      } catch (err) {
        last = err;
      }
    }
    this.stats.failures++;
    const message = oneLine(last instanceof Error ? last.message : String(last));
    const attempts = this.options.retries === 1 ? "" : ` (${this.options.retries} attempts)`;
    throw new HardwareError(
      last instanceof HardwareError ? last.code : "link",
      `${this.options.driver} ${this.options.address}: ${message}${attempts}`,
    );
  }

  async readCurrents(): Promise<number[]> {
    const currents = this.io.currents
      ? await this.counted(() => this.io.currents?.() ?? Promise.resolve([])).catch(this.named)
      : [];
    return Array.from({ length: this.outletCount }, (_, i) => {
      const a = currents[i];
      return typeof a === "number" && a >= 0 && a <= MAX_OUTLET_AMPS ? a : 0;
    });
  }

  counters(): LinkCounters {
    return { ...this.stats };
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.saved?.flush().catch(() => undefined);
    await this.io.close?.();
  }

  /** The states piPDU last set, as saved; a missing or unreadable file means all off. */
  private async load(): Promise<void> {
    if (this.loaded || this.saved === null) return;
    this.loaded = true;
    const saved = await readJson(this.saved.file).catch(() => null);
    if (!Array.isArray(saved)) return;
    saved.slice(0, this.outletCount).forEach((on, i) => {
      if (typeof on === "boolean") this.known[i] = on;
    });
  }

  /** A read's failure says which PDU it is about, for the agent's log. */
  private readonly named = (err: unknown): never => {
    throw new HardwareError(
      "link",
      `${this.options.driver} ${this.options.address}: ${oneLine((err as Error).message)}`,
    );
  };

  private async counted<T>(run: () => Promise<T>): Promise<T> {
    this.stats.transactions++;
    try {
      return await run();
    } catch (err) {
      this.stats.ioErrors++;
      throw err;
    }
  }
}

/**
 * A device's or a command's words (a Shelly error, a script's stderr) go into logs and MQTT results: one line,
 * no terminal escapes, bounded.
 */
function oneLine(text: string): string {
  const clipped = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  return clipped.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

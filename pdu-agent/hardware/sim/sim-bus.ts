// An I2C bus with simulated devices on it, and faults on demand: the simulator's side of the I2cBus seam.
import { I2cError, type I2cBus } from "../../../lib/i2c-bus.ts";

export interface SimDevice {
  readonly address: number;
  receive(bytes: Uint8Array): void;
  request(length: number): Uint8Array;
  /** Resolves when the device can take the next transaction (the simulator keeps its relays first). */
  idle?(): Promise<void>;
}

/** How long transactions hold the bus. */
export interface BusTiming {
  /** SCL clock in Hz (100 kHz standard mode; 10 kHz on a Pi Zero slowed for clock stretching). */
  clockHz: number;
  /** The firmware's Wire handler per transaction (copying the frame, or the reply and its CRC), µs. */
  handlerUs: number;
}

/** A 16 MHz AVR copies a frame or builds a reply (≤ 31 bytes, table CRC) in a few tens of µs. */
export const DEFAULT_HANDLER_US = 50;

/** Bus time of one transaction moving `bytes` data bytes: the address byte and each data byte take 9 clocks (8 bits and the ACK). */
export function transactionMs(bytes: number, timing: BusTiming): number {
  return ((1 + bytes) * 9 * 1000) / timing.clockHz + timing.handlerUs / 1000;
}

/** corrupt: one byte flipped; nack: the device does not answer; zero: an all-zero reply; short: one byte missing. */
export type Fault = "corrupt" | "nack" | "zero" | "short";
const FAULTS: readonly Fault[] = ["corrupt", "nack", "zero", "short"];

export class SimBus implements I2cBus {
  private readonly devices = new Map<number, SimDevice>();
  private readonly queued: Fault[] = [];
  private closed = false;
  /** Probability that any transaction suffers a random fault (fault-injection tests). */
  faultRate = 0;
  faultsInjected = 0;
  /** With a timing, every transaction takes its bus time (transactionMs); without, none. */
  timing: BusTiming | null = null;
  /** Bus time spent so far, ms (the benchmark compares a switch's latency with it). */
  busyMs = 0;
  private busyUntil = 0;

  constructor(private readonly random: () => number = Math.random) {}

  attach(device: SimDevice): void {
    this.devices.set(device.address, device);
  }

  /** The next transaction(s) suffer these faults, in order. */
  injectFault(...faults: Fault[]): void {
    this.queued.push(...faults);
  }

  async write(address: number, bytes: Uint8Array): Promise<void> {
    await this.hold(bytes.length);
    await this.devices.get(address)?.idle?.();
    return this.writeNow(address, bytes);
  }

  async read(address: number, length: number): Promise<Uint8Array> {
    await this.hold(length);
    await this.devices.get(address)?.idle?.();
    return this.readNow(address, length);
  }

  /** Waits out the transaction's bus time, as the master's driver call blocks until STOP. */
  private async hold(bytes: number): Promise<void> {
    if (this.timing === null) return;
    const ms = transactionMs(bytes, this.timing);
    this.busyMs += ms;
    const end = Math.max(performance.now(), this.busyUntil) + ms;
    this.busyUntil = end;
    // Timers are good to a millisecond; the last stretch is waited out a turn of the event loop at a time.
    if (end - performance.now() > 2) await new Promise((r) => setTimeout(r, end - performance.now() - 1.5));
    while (performance.now() < end) await new Promise((r) => setImmediate(r));
  }

  private writeNow(address: number, bytes: Uint8Array): Promise<void> {
    const device = this.device(address);
    if (device instanceof I2cError) return Promise.reject(device);
    const fault = this.nextFault();
    if (fault === "nack")
      return Promise.reject(new I2cError("nack", `no ACK from 0x${address.toString(16)}`));
    const copy = Uint8Array.from(bytes);
    if (fault === "corrupt" && copy.length > 0) copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x10;
    if (fault === "short") device.receive(copy.subarray(0, Math.max(0, copy.length - 1)));
    else if (fault === "zero") device.receive(new Uint8Array(copy.length));
    else device.receive(copy);
    return Promise.resolve();
  }

  private readNow(address: number, length: number): Promise<Uint8Array> {
    const device = this.device(address);
    if (device instanceof I2cError) return Promise.reject(device);
    const fault = this.nextFault();
    if (fault === "nack")
      return Promise.reject(new I2cError("nack", `no ACK from 0x${address.toString(16)}`));
    const reply = device.request(length);
    if (fault === "zero") return Promise.resolve(new Uint8Array(length));
    if (fault === "short") return Promise.resolve(reply.subarray(0, Math.max(0, length - 1)));
    if (fault === "corrupt" && reply.length > 0) reply[0] = (reply[0] ?? 0) ^ 0x01;
    return Promise.resolve(reply);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private device(address: number): SimDevice | I2cError {
    if (this.closed) return new I2cError("closed", "bus closed");
    return this.devices.get(address) ?? new I2cError("nack", `no device at 0x${address.toString(16)}`);
  }

  private nextFault(): Fault | undefined {
    const queued = this.queued.shift();
    if (queued) {
      this.faultsInjected++;
      return queued;
    }
    if (this.faultRate > 0 && this.random() < this.faultRate) {
      this.faultsInjected++;
      return FAULTS[Math.floor(this.random() * FAULTS.length)];
    }
    return undefined;
  }
}

// The real bus: /dev/i2c-N through npm `i2c-bus` (plain I2C transactions; no SMBus, no PEC).
// The native module is imported only here, and only when this file is loaded, so nothing else
// needs it installed.
import { I2cError, type I2cBus } from "./i2c-bus.ts";

/** The part of i2c-bus's PromisifiedBus this adapter uses. */
export interface PromisifiedI2c {
  i2cWrite(
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }>;
  i2cRead(address: number, length: number, buffer: Buffer): Promise<{ bytesRead: number; buffer: Buffer }>;
  close(): Promise<void>;
}

interface I2cBusModule {
  openPromisified(busNumber: number): Promise<PromisifiedI2c>;
}

export async function openNativeI2cBus(busNumber: number): Promise<I2cBus> {
  const specifier = "i2c-bus"; // a variable: the module is optional and has no type declarations
  const loaded = (await import(specifier)) as Partial<I2cBusModule> & { default?: I2cBusModule };
  const i2c = loaded.openPromisified ? (loaded as I2cBusModule) : loaded.default;
  if (!i2c) throw new Error("npm i2c-bus did not load (optional dependency not installed?)");
  return new NativeI2cBus(await i2c.openPromisified(busNumber), busNumber);
}

/** NACK from the device (EREMOTEIO on most adapters, ENXIO on some) vs any other bus error. */
export function toI2cError(err: unknown, what: string): I2cError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const message = `${what}: ${(err as Error | null)?.message ?? String(err)}`;
  return new I2cError(code === "EREMOTEIO" || code === "ENXIO" ? "nack" : "io", message);
}

export class NativeI2cBus implements I2cBus {
  private closed = false;

  constructor(
    private readonly bus: PromisifiedI2c,
    readonly busNumber: number,
  ) {}

  async write(address: number, bytes: Uint8Array): Promise<void> {
    this.checkOpen();
    let written: number;
    try {
      ({ bytesWritten: written } = await this.bus.i2cWrite(address, bytes.length, Buffer.from(bytes)));
    } catch (err) {
      throw toI2cError(err, `write to 0x${address.toString(16)} on /dev/i2c-${this.busNumber}`);
    }
    if (written !== bytes.length)
      throw new I2cError(
        "io",
        `short write to 0x${address.toString(16)}: ${written} of ${bytes.length} bytes`,
      );
  }

  async read(address: number, length: number): Promise<Uint8Array> {
    this.checkOpen();
    try {
      const { bytesRead, buffer } = await this.bus.i2cRead(address, length, Buffer.alloc(length));
      return Uint8Array.from(buffer.subarray(0, bytesRead));
    } catch (err) {
      throw toI2cError(err, `read from 0x${address.toString(16)} on /dev/i2c-${this.busNumber}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.bus.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new I2cError("closed", `/dev/i2c-${this.busNumber} closed`);
  }
}

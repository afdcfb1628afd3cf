// The smallest bus the drivers need: plain I2C write and read transactions (no SMBus, no PEC).
// Implementations: the native i2c-bus adapter, the simulator, and the bridge to the host-built firmware.

export type I2cErrorCode = "nack" | "io" | "closed";

export class I2cError extends Error {
  constructor(
    readonly code: I2cErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "I2cError";
  }
}

export interface I2cBus {
  /** One write transaction (START, address+W, bytes, STOP). Rejects with I2cError on NACK or bus error. */
  write(address: number, bytes: Uint8Array): Promise<void>;
  /** One read transaction of `length` bytes. May resolve with fewer bytes (a short read); callers check. */
  read(address: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

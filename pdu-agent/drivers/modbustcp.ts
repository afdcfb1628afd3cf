// PDUDaemon's `modbustcp`: a relay board on Modbus TCP (`port`, default 502; `unit` or `slave`, default 1).
// Outlet n is coil address n, as upstream writes it (piPDU's `coil_offset: -1` makes outlet 1 address 0, for
// boards numbering relays from 0); the coils are read back (function 1) after every write.
import modbusSerial from "modbus-serial";
import type { DeviceIo } from "./driver-controller.ts";
import type { DriverOptions } from "./options.ts";

const TIMEOUT_MS = 3000;
// A CommonJS module whose exports are the client class, also under `default`.
const ModbusRTU = modbusSerial.default;

export class ModbusTcp implements DeviceIo {
  private readonly client = new ModbusRTU();
  private readonly host: string;
  private readonly port: number;
  private readonly unit: number;
  private readonly offset: number;
  private connecting: Promise<void> | null = null;

  constructor(
    options: DriverOptions,
    private readonly outletCount: number,
  ) {
    this.host = options.hostname;
    this.port = options.integer("port", 502, 1, 65535);
    this.unit = options.integer("unit", options.integer("slave", 1, 0, 255), 0, 255);
    this.offset = options.integer("coil_offset", 0, -1, 1000);
    this.client.setTimeout(TIMEOUT_MS);
  }

  async switch(outlet: number, on: boolean): Promise<void> {
    await this.call(() => this.client.writeCoil(outlet + this.offset, on));
  }

  async read(): Promise<(boolean | null)[]> {
    const { data } = await this.call(() => this.client.readCoils(1 + this.offset, this.outletCount));
    return data.slice(0, this.outletCount);
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await new Promise<void>((resolve) => this.client.close(() => resolve()));
  }

  /** One request on an open connection; a failed one drops the connection so the next starts afresh. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      if (!this.client.isOpen) {
        this.connecting ??= withTimeout(this.client.connectTCP(this.host, { port: this.port }), "connect")
          .then(() => this.client.setID(this.unit))
          .finally(() => (this.connecting = null));
        await this.connecting;
      }
      return await request();
    } catch (err) {
      const e = err as Error & { modbusCode?: number };
      if (e.modbusCode === undefined) await this.close().catch(() => undefined);
      throw new Error(`Modbus ${this.host}:${this.port} unit ${this.unit}: ${e.message}`);
    }
  }
}

/** A connect to an address that drops packets would wait for the system's TCP timeout (minutes). */
function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

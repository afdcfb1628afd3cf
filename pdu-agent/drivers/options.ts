// A PDUDaemon PDU entry's keys as a driver reads them: each getter names the PDU and the key when a value
// is wrong, so a configuration problem is one line a person can act on.
import type { DriverPduConfig } from "../../config/pdudaemon-config.ts";

export class DriverConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DriverConfigError";
  }
}

export class DriverOptions {
  constructor(private readonly pdu: DriverPduConfig) {}

  get hostname(): string {
    return this.pdu.hostname;
  }

  fail(message: string): never {
    const where = this.pdu.source === undefined ? "" : `${this.pdu.source}: `;
    throw new DriverConfigError(`${where}PDU "${this.pdu.hostname}" (${this.pdu.driver}): ${message}`);
  }

  has(key: string): boolean {
    return this.pdu.options[key] !== undefined && this.pdu.options[key] !== null;
  }

  string(key: string): string | null;
  string(key: string, fallback: string): string;
  string(key: string, fallback: string | null = null): string | null {
    const value = this.pdu.options[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value === "number") return String(value);
    if (typeof value !== "string") this.fail(`"${key}" must be a string`);
    return value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === null || value === "") this.fail(`"${key}" is required`);
    return value;
  }

  /** A whole number; PDUDaemon configs often quote numbers ("onsetting": "1"), so digits in a string count. */
  integer(key: string, fallback: number, min: number, max: number): number;
  integer(key: string, fallback: null, min: number, max: number): number | null;
  integer(key: string, fallback: number | null, min: number, max: number): number | null {
    const raw = this.pdu.options[key];
    if (raw === undefined || raw === null) return fallback;
    const value = typeof raw === "string" && /^-?[0-9]+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
      this.fail(`"${key}" must be a whole number from ${min} to ${max}`);
    return value;
  }

  number(key: string, fallback: number, min: number, max: number): number {
    const raw = this.pdu.options[key];
    if (raw === undefined || raw === null) return fallback;
    const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max)
      this.fail(`"${key}" must be a number from ${min} to ${max}`);
    return value;
  }

  stringList(key: string): string[] | null {
    const value = this.pdu.options[key];
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== "string" || v === ""))
      this.fail(`"${key}" must be a list of names`);
    return value as string[];
  }
}

/** table[key] when key is the table's own (a config value "constructor" or "__proto__" names nothing). */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** "host", "host:port" or "[v6]:port" → host and port (the fallback when none is given). */
export function splitHostPort(address: string, fallback: number): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(address);
  if (v6) return { host: v6[1] ?? "", port: v6[2] === undefined ? fallback : Number(v6[2]) };
  const m = /^([^:]+):([0-9]{1,5})$/.exec(address);
  if (m) return { host: m[1] ?? "", port: Number(m[2]) };
  return { host: address, port: fallback };
}

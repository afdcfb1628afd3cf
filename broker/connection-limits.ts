// Bounds on what a connection costs before anyone knows who it is. Aedes reads a whole packet into memory
// before it authenticates the client, so an unauthenticated CONNECT announcing 200 MB would be buffered:
// the guard reads each packet's length from its fixed header as the bytes arrive and drops the connection
// as soon as one announces more than the small pre-authentication limit. After authentication Aedes's own
// maximum packet size applies (announced to MQTT 5 clients). Connection caps hold in total and per address.
import type { Duplex } from "node:stream";

export interface PreAuthLimits {
  /** Largest packet (whole, on the wire) before the client is authenticated: its CONNECT, with will. */
  maxPacket: number;
  /** All bytes a client may send before it is authenticated (CONNECT plus what it pipelines behind it). */
  maxBytes: number;
}

export const DEFAULT_PRE_AUTH: PreAuthLimits = { maxPacket: 8 * 1024, maxBytes: 32 * 1024 };

/**
 * Reads MQTT fixed headers of what the broker reads from `conn` until `authenticated()`; a packet or a
 * byte count over the limits destroys the connection before its body is buffered. Aedes 2.0.0-beta.1
 * (pinned) reads a connection only through `conn.read()`: the check wraps that one method of this one
 * connection and is taken off at authentication, so an admitted client's packets pass untouched.
 */
export function guardPreAuth(
  conn: Duplex,
  limits: PreAuthLimits,
  onRefused: (reason: string) => void,
): { authenticated(): void } {
  const scanner = new FixedHeaderScanner(limits);
  const read = conn.read.bind(conn);
  conn.read = (size?: number): unknown => {
    const chunk = read(size) as Buffer | string | null;
    if (chunk === null || typeof chunk === "string") return chunk;
    const refused = scanner.scan(chunk);
    if (refused === null) return chunk;
    onRefused(refused);
    conn.destroy();
    return null;
  };
  return {
    authenticated: () => {
      delete (conn as { read?: unknown }).read; // the stream's own read again
    },
  };
}

/** Follows packet boundaries through a byte stream, reading each packet's length from its fixed header. */
class FixedHeaderScanner {
  readonly #limits: PreAuthLimits;
  #seen = 0;
  // 0 = at a packet's type byte, 1 = in its Remaining Length, 2 = in its body.
  #state = 0;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #bodyLeft = 0;

  constructor(limits: PreAuthLimits) {
    this.#limits = limits;
  }

  /** null while within the limits, else why not. */
  scan(chunk: Buffer): string | null {
    this.#seen += chunk.length;
    if (this.#seen > this.#limits.maxBytes)
      return `more than ${this.#limits.maxBytes} bytes before authentication`;
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === 2) {
        const take = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= take;
        i += take;
        if (this.#bodyLeft === 0) this.#state = 0;
        continue;
      }
      const byte = chunk[i++] ?? 0;
      if (this.#state === 0) {
        this.#state = 1;
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
        continue;
      }
      // Remaining Length: up to 4 bytes, 7 bits each, low bits first [MQTT-2.2.3]
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#lengthBytes++;
      if (byte & 0x80) {
        if (this.#lengthBytes === 4) return "malformed remaining length";
        continue;
      }
      const size = 1 + this.#lengthBytes + this.#length;
      if (size > this.#limits.maxPacket)
        return `a ${size}-byte packet before authentication (limit ${this.#limits.maxPacket})`;
      this.#bodyLeft = this.#length;
      this.#state = this.#length === 0 ? 0 : 2;
    }
    return null;
  }
}

export interface ConnectionCapOptions {
  /** Open connections in total. */
  total: number;
  /** Open connections from one non-loopback address. */
  perAddress: number;
}

export const DEFAULT_CONNECTION_CAPS: ConnectionCapOptions = { total: 1024, perAddress: 32 };

/** Counts open connections; `admit` says whether one more may open (and counts it until `release`). */
export class ConnectionCaps {
  readonly #options: ConnectionCapOptions;
  readonly #perAddress = new Map<string, number>();
  #open = 0;

  constructor(options: ConnectionCapOptions) {
    this.#options = options;
  }

  /** null when admitted (call the returned release when it closes), else why not. */
  admit(address: string | undefined, loopback: boolean): { release: () => void } | string {
    if (this.#open >= this.#options.total) return `already ${this.#open} connections open`;
    const key = loopback ? null : (address ?? "unknown");
    const fromThere = key === null ? 0 : (this.#perAddress.get(key) ?? 0);
    if (key !== null && fromThere >= this.#options.perAddress)
      return `already ${fromThere} connections from ${key}`;
    this.#open++;
    if (key !== null) this.#perAddress.set(key, fromThere + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#open--;
        if (key === null) return;
        const left = (this.#perAddress.get(key) ?? 1) - 1;
        if (left === 0) this.#perAddress.delete(key);
        else this.#perAddress.set(key, left);
      },
    };
  }
}

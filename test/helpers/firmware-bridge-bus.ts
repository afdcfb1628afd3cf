// An I2cBus over the host-built firmware (firmware/build/pipdu-bridge, `make -C firmware bridge`):
// the real register file, CRC and relay logic, no board. Speaks the bridge's line protocol
// (firmware/README.md), one request outstanding at a time, and exposes the bridge's test controls:
// loads, simulated time, resets and fault injection.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { I2cError, type I2cBus } from "../../lib/i2c-bus.ts";

export const DEFAULT_BRIDGE_PATH = fileURLToPath(
  new URL("../../firmware/build/pipdu-bridge", import.meta.url),
);

/** Same meanings as the simulator's SimBus faults: corrupt, nack, zero (all-zero), short (one byte missing). */
export type BridgeFault = "corrupt" | "nack" | "zero" | "short";
export type BridgeResetCause = "power" | "brownout" | "external" | "watchdog" | "unknown";

export interface FirmwareBridgeOptions {
  /** The bridge executable; default firmware/build/pipdu-bridge. */
  path?: string;
  /** 7-bit slave address of the firmware (default 0x42). */
  address?: number;
  /** Relays fitted, 1..16 (default 16). */
  outlets?: number;
  /** Seed of the bridge's noise generator. */
  seed?: number;
}

/** An outlet number 1..16, or "*" for all of them. */
export type OutletSelector = number | "*";

interface Waiter {
  resolve: (line: string) => void;
  reject: (err: Error) => void;
}

export class FirmwareBridgeBus implements I2cBus {
  private readonly waiters: Waiter[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private exited: Error | null = null;
  private closing = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => this.waiters.shift()?.resolve(line));
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const fail = (err: Error): void => {
      this.exited ??= err;
      for (const w of this.waiters.splice(0))
        w.reject(new I2cError(this.closing ? "closed" : "io", err.message));
    };
    child.on("error", fail);
    child.on("exit", (code, signal) =>
      fail(new Error(`pipdu-bridge exited (${signal ?? code ?? "?"}) ${stderr.trim()}`)),
    );
    child.stdin.on("error", fail);
  }

  /** Starts the bridge and checks that it answers. Fails with a hint when it has not been built. */
  static async start(options: FirmwareBridgeOptions = {}): Promise<FirmwareBridgeBus> {
    const args: string[] = [];
    if (options.address !== undefined) args.push("--address", String(options.address));
    if (options.outlets !== undefined) args.push("--outlets", String(options.outlets));
    if (options.seed !== undefined) args.push("--seed", String(options.seed));
    const path = options.path ?? DEFAULT_BRIDGE_PATH;
    const bus = new FirmwareBridgeBus(spawn(path, args, { stdio: ["pipe", "pipe", "pipe"] }));
    try {
      await bus.relayPins();
    } catch (err) {
      await bus.close();
      throw new Error(
        `cannot run ${path} (build it with: make -C firmware bridge): ${(err as Error).message}`,
      );
    }
    return bus;
  }

  async write(address: number, bytes: Uint8Array): Promise<void> {
    const answer = await this.command(`W ${address} ${Buffer.from(bytes).toString("hex")}`);
    if (answer === "NACK") throw new I2cError("nack", `no ACK from 0x${address.toString(16)}`);
    this.expect(answer, "OK");
  }

  async read(address: number, length: number): Promise<Uint8Array> {
    const answer = await this.command(`R ${address} ${length}`);
    if (answer === "NACK") throw new I2cError("nack", `no ACK from 0x${address.toString(16)}`);
    if (!answer.startsWith("D ")) throw new I2cError("io", `pipdu-bridge: unexpected answer "${answer}"`);
    return Uint8Array.from(Buffer.from(answer.slice(2), "hex"));
  }

  /** RMS load in amperes on an outlet; it flows only while that outlet's relay is energised. */
  async setLoad(outlet: OutletSelector, amps: number): Promise<void> {
    this.expect(await this.command(`L ${outlet} ${amps}`), "OK");
  }

  /** Gaussian sensor noise, RMS in ADC steps. */
  async setNoise(outlet: OutletSelector, steps: number): Promise<void> {
    this.expect(await this.command(`NOISE ${outlet} ${steps}`), "OK");
  }

  /** Sensor zero offset in ADC steps. */
  async setOffset(outlet: OutletSelector, steps: number): Promise<void> {
    this.expect(await this.command(`OFFSET ${outlet} ${steps}`), "OK");
  }

  /** The simulated sensor's real gain in µA per ADC step (CAL_GAIN is what the firmware assumes). */
  async setSensorGain(outlet: OutletSelector, microampsPerStep: number): Promise<void> {
    this.expect(await this.command(`GAIN ${outlet} ${microampsPerStep}`), "OK");
  }

  /** Grid frequency of the synthetic waveforms. */
  async setGridHz(hz: number): Promise<void> {
    this.expect(await this.command(`HZ ${hz}`), "OK");
  }

  /** Runs the firmware for ms of simulated time (ADC sampling, RMS windows, delays, counters). */
  async advance(ms: number): Promise<void> {
    this.expect(await this.command(`T ${Math.max(0, Math.round(ms))}`), "OK");
  }

  /** A reset of the Mega with this cause; the EEPROM survives all of them, RAM only external/watchdog. */
  async reset(cause: BridgeResetCause): Promise<void> {
    this.expect(await this.command(`RESET ${cause.toUpperCase()}`), "OK");
  }

  /** The next transactions suffer these faults, one each, in order. */
  async injectFault(...faults: BridgeFault[]): Promise<void> {
    for (const f of faults) this.expect(await this.command(`FAULT ${f.toUpperCase()}`), "OK");
  }

  async clearFaults(): Promise<void> {
    this.expect(await this.command("FAULT CLEAR"), "OK");
  }

  /** The relay outputs as the firmware drives them (bit n-1 = outlet n): the ground truth. */
  async relayPins(): Promise<number> {
    const answer = await this.command("PINS");
    if (!answer.startsWith("V ")) throw new Error(`pipdu-bridge: unexpected answer "${answer}"`);
    return Number(answer.slice(2));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin.end("QUIT\n");
    const timer = setTimeout(() => this.child.kill(), 2000);
    await exited;
    clearTimeout(timer);
  }

  private command(line: string): Promise<string> {
    const run = (): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        if (this.closing) return reject(new I2cError("closed", "bus closed"));
        if (this.exited) return reject(new I2cError("io", this.exited.message));
        this.waiters.push({ resolve, reject });
        this.child.stdin.write(`${line}\n`);
      });
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private expect(answer: string, wanted: string): void {
    if (answer !== wanted) throw new Error(`pipdu-bridge: expected ${wanted}, got "${answer}"`);
  }
}

// Two ways to drive Pi GPIO through sysfs: npm rpi-gpio (edge interrupts through epoll) where BCM numbers
// are sysfs numbers (base 0), and a plain sysfs adapter that adds the base (Bookworm's 512+), polling inputs.
import fs from "node:fs/promises";
import path from "node:path";
import { realSleep } from "../../lib/sleep.ts";

export interface GpioBackend {
  setupInput(bcm: number, onChange: (high: boolean) => void): Promise<void>;
  setupOutput(bcm: number): Promise<void>;
  write(bcm: number, high: boolean): Promise<void>;
  close(): Promise<void>;
}

/** The part of rpi-gpio's callback API used here. */
interface RpiGpio {
  MODE_BCM: string;
  DIR_IN: string;
  DIR_OUT: string;
  EDGE_BOTH: string;
  setMode(mode: string): void;
  setup(channel: number, direction: string, edge: string, cb: (err?: Error | null) => void): void;
  write(channel: number, value: boolean, cb: (err?: Error | null) => void): void;
  on(event: "change", listener: (channel: number, value: boolean) => void): void;
  destroy(cb: (err?: Error | null) => void): void;
}

export async function openRpiGpio(): Promise<GpioBackend> {
  const specifier = "rpi-gpio"; // optional dependency, loaded only for the gpio driver
  const loaded = (await import(specifier)) as { default?: RpiGpio } & Partial<RpiGpio>;
  const gpio = (loaded.default ?? loaded) as RpiGpio;
  gpio.setMode(gpio.MODE_BCM);
  const listeners = new Map<number, (high: boolean) => void>();
  gpio.on("change", (channel, value) => listeners.get(channel)?.(value));
  const call = (f: (cb: (err?: Error | null) => void) => void): Promise<void> =>
    new Promise((resolve, reject) => f((err) => (err ? reject(err) : resolve())));
  return {
    setupInput: async (bcm, onChange) => {
      listeners.set(bcm, onChange);
      await call((cb) => gpio.setup(bcm, gpio.DIR_IN, gpio.EDGE_BOTH, cb));
    },
    setupOutput: (bcm) => call((cb) => gpio.setup(bcm, gpio.DIR_OUT, "none", cb)),
    write: (bcm, high) => call((cb) => gpio.write(bcm, high, cb)),
    close: () => call((cb) => gpio.destroy(cb)),
  };
}

/** sysfs with a base offset; `root` is /sys/class/gpio (a directory tree in tests). */
export class SysfsGpio implements GpioBackend {
  private readonly inputs = new Map<number, { onChange: (high: boolean) => void; last: boolean | null }>();
  private readonly exported: number[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly base: number,
    private readonly pollMs: number,
    private readonly root = "/sys/class/gpio",
  ) {}

  async setupInput(bcm: number, onChange: (high: boolean) => void): Promise<void> {
    await this.export(bcm, "in");
    this.inputs.set(bcm, { onChange, last: null });
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
  }

  async setupOutput(bcm: number): Promise<void> {
    await this.export(bcm, "low");
  }

  async write(bcm: number, high: boolean): Promise<void> {
    await fs.writeFile(this.file(bcm, "value"), high ? "1" : "0");
  }

  /** Reads every input once and reports changes (also called by the timer). */
  async poll(): Promise<void> {
    for (const [bcm, input] of this.inputs) {
      let high: boolean;
      try {
        high = (await fs.readFile(this.file(bcm, "value"), "utf8")).trim() === "1";
      } catch {
        continue;
      }
      if (high === input.last) continue;
      input.last = high;
      input.onChange(high);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const n of this.exported.splice(0))
      await fs.writeFile(path.join(this.root, "unexport"), String(n)).catch(() => undefined);
  }

  private file(bcm: number, name: string): string {
    return path.join(this.root, `gpio${this.base + bcm}`, name);
  }

  private async export(bcm: number, direction: "in" | "low"): Promise<void> {
    const n = this.base + bcm;
    try {
      await fs.access(path.join(this.root, `gpio${n}`));
    } catch {
      await fs.writeFile(path.join(this.root, "export"), String(n));
      this.exported.push(n);
    }
    // udev sets the permissions a moment after the export: retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.writeFile(this.file(bcm, "direction"), direction);
        return;
      } catch (err) {
        if (attempt >= 20) throw err;
        await realSleep(10);
      }
    }
  }
}

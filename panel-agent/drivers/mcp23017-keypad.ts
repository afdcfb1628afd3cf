// 16 lit buttons on two MCP23017 expanders (see mcp23017.ts for the pin map), polled on a timer.
import type { Logger } from "../../log/logger.ts";
import type { ButtonListener, Keypad } from "./panel-driver.ts";
import type { Mcp23017 } from "./mcp23017.ts";

export class Mcp23017Keypad implements Keypad {
  readonly size: number;
  private levels: boolean[];
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();
  private lastError = "";

  constructor(
    private readonly chips: Mcp23017[],
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {
    this.size = chips.length * 8;
    this.levels = new Array<boolean>(this.size).fill(false);
  }

  async start(listener: ButtonListener): Promise<void> {
    for (const chip of this.chips) await chip.init();
    const loop = (): void => {
      this.polling = this.poll(listener).finally(() => {
        if (this.timer !== null) this.timer = setTimeout(loop, this.pollMs);
      });
    };
    this.timer = setTimeout(loop, this.pollMs);
  }

  /** One read of every chip; reports each level change (captured ones first). Exposed for tests. */
  async poll(listener: ButtonListener): Promise<void> {
    for (const [c, chip] of this.chips.entries()) {
      let samples: boolean[][];
      try {
        samples = await chip.readButtons();
        this.lastError = "";
      } catch (err) {
        const message = (err as Error).message;
        if (message !== this.lastError) this.logger.warn(`buttons: ${message}`, { component: "panel" });
        this.lastError = message;
        continue;
      }
      for (const sample of samples) {
        sample.forEach((pressed, k) => {
          const i = c * 8 + k;
          if (this.levels[i] === pressed) return;
          this.levels[i] = pressed;
          listener(i, pressed);
        });
      }
    }
  }

  async setLeds(lit: readonly boolean[]): Promise<void> {
    for (const [c, chip] of this.chips.entries()) await chip.setLeds(lit.slice(c * 8, c * 8 + 8));
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
    await this.setLeds(new Array<boolean>(this.size).fill(false)).catch(() => undefined);
  }
}

// Buttons and LEDs wired straight to Pi GPIO, for small panels: buttons to ground (active low, pull-ups
// fitted or configured with dtoverlay/gpio in config.txt), LEDs active high.
import type { GpioBackend } from "./gpio-backend.ts";
import type { ButtonListener, Keypad } from "./panel-driver.ts";

export class GpioKeypad implements Keypad {
  readonly size: number;
  private lit: boolean[] = [];

  constructor(
    private readonly gpio: GpioBackend,
    private readonly buttons: readonly number[],
    private readonly leds: readonly number[],
  ) {
    this.size = buttons.length;
  }

  async start(listener: ButtonListener): Promise<void> {
    for (const bcm of this.leds) await this.gpio.setupOutput(bcm);
    for (const [i, bcm] of this.buttons.entries())
      await this.gpio.setupInput(bcm, (high) => listener(i, !high));
  }

  async setLeds(lit: readonly boolean[]): Promise<void> {
    for (const [i, bcm] of this.leds.entries()) {
      const on = lit[i] === true;
      if (this.lit[i] === on) continue;
      await this.gpio.write(bcm, on);
      this.lit[i] = on;
    }
  }

  async close(): Promise<void> {
    await this.setLeds([]).catch(() => undefined);
    await this.gpio.close();
  }
}

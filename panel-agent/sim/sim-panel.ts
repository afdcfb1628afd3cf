// The simulated panel's hardware: 20×4 text, 16 buttons, 16 LEDs, held in memory. The web page and the
// JSON API (sim-server.ts) read it and press its buttons.
import { EventEmitter } from "node:events";
import type { LedMode } from "../leds.ts";
import type { ButtonListener, Keypad, TextDisplay } from "../drivers/panel-driver.ts";

export interface SimPanelState {
  lcd: string[];
  leds: { button: number; lit: boolean; mode: LedMode }[];
  pressed: number[];
}

export class SimPanel extends EventEmitter<{ change: [] }> implements TextDisplay, Keypad {
  private lcd = ["", "", "", ""].map(() => " ".repeat(20));
  private lit: boolean[];
  private modes: LedMode[];
  private readonly pressed = new Set<number>();
  private listener: ButtonListener | null = null;

  constructor(readonly size: number) {
    super();
    this.lit = new Array<boolean>(size).fill(false);
    this.modes = new Array<LedMode>(size).fill("off");
  }

  state(): SimPanelState {
    return {
      lcd: [...this.lcd],
      leds: this.lit.map((lit, i) => ({ button: i + 1, lit, mode: this.modes[i] ?? "off" })),
      pressed: [...this.pressed].sort((a, b) => a - b).map((i) => i + 1),
    };
  }

  /** Press or release button `index` (0-based), as a finger would. */
  set(index: number, pressed: boolean): void {
    if (index < 0 || index >= this.size) throw new RangeError(`button ${index + 1} does not exist`);
    if (pressed === this.pressed.has(index)) return;
    if (pressed) this.pressed.add(index);
    else this.pressed.delete(index);
    this.listener?.(index, pressed);
    this.emit("change");
  }

  async show(lines: readonly string[]): Promise<void> {
    this.lcd = [0, 1, 2, 3].map((i) => (lines[i] ?? "").padEnd(20).slice(0, 20));
    this.emit("change");
    return Promise.resolve();
  }

  async start(listener: ButtonListener): Promise<void> {
    this.listener = listener;
    return Promise.resolve();
  }

  async setLeds(lit: readonly boolean[], modes: readonly LedMode[]): Promise<void> {
    this.lit = Array.from({ length: this.size }, (_, i) => lit[i] === true);
    this.modes = Array.from({ length: this.size }, (_, i) => modes[i] ?? "off");
    this.emit("change");
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.listener = null;
    return Promise.resolve();
  }
}

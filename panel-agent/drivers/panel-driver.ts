// The seams between the panel's logic and its hardware: a 20×4 text display and a keypad of lit buttons.
// Real (HD44780, MCP23017, GPIO) and simulated (web page) implementations are chosen in create-driver.ts.
import type { LedMode } from "../leds.ts";

export interface TextDisplay {
  /** Show 4 lines of 20 characters (already fitted by the screen renderers). */
  show(lines: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export type ButtonListener = (index: number, pressed: boolean) => void;

export interface Keypad {
  /** Number of buttons (and LEDs); button indexes are 0-based. */
  readonly size: number;
  /** Start reporting raw button levels (true = pressed); bouncing is left to the gesture detector. */
  start(listener: ButtonListener): Promise<void>;
  /** `lit` is what each LED shows now; `modes` why (the simulated panel reports it, hardware ignores it). */
  setLeds(lit: readonly boolean[], modes: readonly LedMode[]): Promise<void>;
  close(): Promise<void>;
}

export interface PanelDriver {
  display: TextDisplay;
  keypad: Keypad;
  /** For the log and the start-up line: "simulated panel at http://…", "LCD 0x27, MCP23017 0x20/0x21 on /dev/i2c-1". */
  description: string;
  close(): Promise<void>;
}

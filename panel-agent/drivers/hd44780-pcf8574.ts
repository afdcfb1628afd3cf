// A 2004 LCD (HD44780) behind a PCF8574 I2C backpack, in 4-bit mode.
// Backpack bits: P0=RS, P1=RW, P2=E, P3=backlight, P4-P7=D4-D7. Each nibble is latched by a byte with E high
// followed by the same byte with E low; a whole command or row goes in one I2C write (the PCF8574 latches
// every byte of a transaction), which keeps the bus busy for ~8 ms per changed row at 100 kHz.
import type { I2cBus } from "../../lib/i2c-bus.ts";
import type { Sleep } from "../../lib/sleep.ts";
import type { TextDisplay } from "./panel-driver.ts";

export const RS = 0x01;
export const RW = 0x02;
export const EN = 0x04;
export const BACKLIGHT = 0x08;
/** DDRAM address of each row of a 20×4 display. */
export const ROW_ADDRESS = [0x00, 0x40, 0x14, 0x54] as const;

export const CMD_CLEAR = 0x01;
export const CMD_ENTRY_MODE = 0x06; // increment, no shift
export const CMD_DISPLAY_ON = 0x0c; // display on, cursor off, blink off
export const CMD_DISPLAY_OFF = 0x08;
export const CMD_FUNCTION_SET = 0x28; // 4-bit, 2 lines (4 on a 2004), 5×8 dots
export const CMD_SET_DDRAM = 0x80;

/** The two bytes that clock one nibble into the controller. */
export function nibbleBytes(nibble: number, flags: number): [number, number] {
  const b = ((nibble & 0x0f) << 4) | flags;
  return [b | EN, b];
}

/** The four bytes of one command (RS=0) or data byte (RS=1): high nibble first. */
export function byteBytes(value: number, rs: boolean, backlight = true): number[] {
  const flags = (rs ? RS : 0) | (backlight ? BACKLIGHT : 0);
  return [...nibbleBytes(value >> 4, flags), ...nibbleBytes(value, flags)];
}

export class Hd44780Pcf8574 implements TextDisplay {
  private shown: string[] = ["", "", "", ""];

  constructor(
    private readonly bus: I2cBus,
    readonly address: number,
    private readonly sleep: Sleep,
  ) {}

  /**
   * The HD44780 datasheet's "initialization by instruction" for 4-bit mode: it works whatever state the
   * controller was left in (8-bit after power-on, or mid-nibble after a crashed agent).
   */
  async init(): Promise<void> {
    await this.write([BACKLIGHT]);
    await this.sleep(50); // > 40 ms after Vcc rises to 2.7 V
    await this.write(nibbleBytes(0x3, BACKLIGHT));
    await this.sleep(5); // > 4.1 ms
    await this.write(nibbleBytes(0x3, BACKLIGHT));
    await this.sleep(1); // > 100 µs
    await this.write(nibbleBytes(0x3, BACKLIGHT));
    await this.write(nibbleBytes(0x2, BACKLIGHT)); // now in 4-bit mode
    await this.command(CMD_FUNCTION_SET);
    await this.command(CMD_DISPLAY_OFF);
    await this.command(CMD_CLEAR);
    await this.sleep(2); // clear takes 1.52 ms
    await this.command(CMD_ENTRY_MODE);
    await this.command(CMD_DISPLAY_ON);
    this.shown = [" ".repeat(20), " ".repeat(20), " ".repeat(20), " ".repeat(20)];
  }

  /** Rewrites only the rows that changed. */
  async show(lines: readonly string[]): Promise<void> {
    for (let row = 0; row < ROW_ADDRESS.length; row++) {
      const text = (lines[row] ?? "").padEnd(20).slice(0, 20);
      if (text === this.shown[row]) continue;
      const bytes = byteBytes(CMD_SET_DDRAM | (ROW_ADDRESS[row] ?? 0), false);
      for (const ch of text) bytes.push(...byteBytes(ch.charCodeAt(0) & 0xff, true));
      await this.write(bytes);
      this.shown[row] = text;
    }
  }

  /** Leaves the text, turns off the backlight: a stopped panel should not look alive. */
  async close(): Promise<void> {
    await this.write([0x00]);
  }

  private command(value: number): Promise<void> {
    return this.write(byteBytes(value, false));
  }

  private write(bytes: number[]): Promise<void> {
    return this.bus.write(this.address, Uint8Array.from(bytes));
  }
}

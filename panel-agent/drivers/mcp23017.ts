// MCP23017 16-bit I/O expander (IOCON.BANK = 0: A/B registers interleaved, sequential addressing).
//
// Pin map, the same on both chips (chip A: buttons 1-8, chip B: buttons 9-16), k = 0..7 on the chip:
//   button k → GPA0-3 (k 0-3), GPB0-3 (k 4-7): inputs with pull-ups, pressed = low
//   LED k    → GPA4-7 (k 0-3), GPB4-7 (k 4-7): outputs, lit = high (through a transistor or driver:
//              25 mA per pin, 150 mA per chip)
// Newer MCP23017 datasheets make GPA7 and GPB7 output-only; this map uses them only for LEDs.
import type { I2cBus } from "../../lib/i2c-bus.ts";

export const REG = {
  IODIRA: 0x00,
  IODIRB: 0x01,
  IPOLA: 0x02,
  GPINTENA: 0x04,
  DEFVALA: 0x06,
  INTCONA: 0x08,
  IOCON: 0x0a,
  GPPUA: 0x0c,
  INTFA: 0x0e,
  INTCAPA: 0x10,
  GPIOA: 0x12,
  OLATA: 0x14,
} as const;

/** IOCON.MIRROR: INTA and INTB tied, so one interrupt line per chip can be wired. */
export const IOCON_MIRROR = 0x40;
/** Inputs (1) on the low nibble of each port, outputs on the high nibble. */
export const INPUT_MASK = 0x0f;

/** Port and bit of button/LED k (0..7) on one chip. */
export function buttonBit(k: number): { port: 0 | 1; bit: number } {
  return { port: k < 4 ? 0 : 1, bit: k % 4 };
}
export function ledBit(k: number): { port: 0 | 1; bit: number } {
  return { port: k < 4 ? 0 : 1, bit: 4 + (k % 4) };
}

export class Mcp23017 {
  private olat: [number, number] = [0, 0];

  constructor(
    private readonly bus: I2cBus,
    readonly address: number,
  ) {}

  /** LEDs off first (OLAT), then directions, pull-ups and interrupt-on-change for the buttons. */
  async init(): Promise<void> {
    await this.writeRegs(REG.IOCON, [IOCON_MIRROR]);
    this.olat = [0, 0];
    await this.writeRegs(REG.OLATA, this.olat);
    await this.writeRegs(REG.IODIRA, [INPUT_MASK, INPUT_MASK]);
    await this.writeRegs(REG.GPPUA, [INPUT_MASK, INPUT_MASK]);
    await this.writeRegs(REG.INTCONA, [0x00, 0x00]); // compare with the previous value: every edge
    await this.writeRegs(REG.GPINTENA, [INPUT_MASK, INPUT_MASK]);
  }

  /**
   * The 8 buttons (true = pressed), oldest first: the levels captured at the last interrupt (INTCAP), when
   * INTF says one happened, then the current levels (GPIO). A tap shorter than the poll interval is still seen.
   */
  async readButtons(): Promise<boolean[][]> {
    const flagsAndCapture = await this.readRegs(REG.INTFA, 4); // INTFA, INTFB, INTCAPA, INTCAPB
    const gpio = await this.readRegs(REG.GPIOA, 2);
    const samples: boolean[][] = [];
    if (((flagsAndCapture[0] ?? 0) | (flagsAndCapture[1] ?? 0)) & INPUT_MASK)
      samples.push(decode(flagsAndCapture[2] ?? 0xff, flagsAndCapture[3] ?? 0xff));
    samples.push(decode(gpio[0] ?? 0xff, gpio[1] ?? 0xff));
    return samples;
  }

  /** Writes OLAT only when an LED changed. */
  async setLeds(lit: readonly boolean[]): Promise<void> {
    const next: [number, number] = [this.olat[0] & INPUT_MASK, this.olat[1] & INPUT_MASK];
    lit.slice(0, 8).forEach((on, k) => {
      const { port, bit } = ledBit(k);
      if (on) next[port] |= 1 << bit;
    });
    if (next[0] === this.olat[0] && next[1] === this.olat[1]) return;
    await this.writeRegs(REG.OLATA, next);
    this.olat = next;
  }

  async writeRegs(register: number, values: readonly number[]): Promise<void> {
    await this.bus.write(this.address, Uint8Array.from([register, ...values]));
  }

  async readRegs(register: number, length: number): Promise<Uint8Array> {
    await this.bus.write(this.address, Uint8Array.of(register));
    const bytes = await this.bus.read(this.address, length);
    if (bytes.length !== length)
      throw new Error(
        `MCP23017 0x${this.address.toString(16)}: short read (${bytes.length} of ${length} bytes)`,
      );
    return bytes;
  }
}

function decode(portA: number, portB: number): boolean[] {
  return Array.from({ length: 8 }, (_, k) => {
    const { port, bit } = buttonBit(k);
    return (((port === 0 ? portA : portB) >> bit) & 1) === 0;
  });
}

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { silentLogger } from "../log/logger.ts";
import type { I2cBus } from "../lib/i2c-bus.ts";
import { SysfsGpio } from "../panel-agent/drivers/gpio-backend.ts";
import { GpioKeypad } from "../panel-agent/drivers/gpio-keypad.ts";
import { findGpioBase, sysfsNumber } from "../panel-agent/drivers/gpio-numbering.ts";
import { byteBytes, Hd44780Pcf8574, nibbleBytes } from "../panel-agent/drivers/hd44780-pcf8574.ts";
import { Mcp23017 } from "../panel-agent/drivers/mcp23017.ts";
import { Mcp23017Keypad } from "../panel-agent/drivers/mcp23017-keypad.ts";

/** Records every transaction; reads answer from a per-address register file (MCP23017 style: write sets the pointer). */
class FakeBus implements I2cBus {
  readonly log: { op: "w" | "r"; address: number; bytes: number[] }[] = [];
  readonly registers = new Map<number, number[]>();
  private pointer = new Map<number, number>();
  write(address: number, bytes: Uint8Array): Promise<void> {
    this.log.push({ op: "w", address, bytes: [...bytes] });
    if (bytes.length > 0) this.pointer.set(address, bytes[0] ?? 0);
    return Promise.resolve();
  }
  read(address: number, length: number): Promise<Uint8Array> {
    const start = this.pointer.get(address) ?? 0;
    const regs = this.registers.get(address) ?? [];
    const bytes = Array.from({ length }, (_, i) => regs[start + i] ?? 0);
    this.log.push({ op: "r", address, bytes });
    return Promise.resolve(Uint8Array.from(bytes));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  writes(address: number): number[][] {
    return this.log.filter((l) => l.op === "w" && l.address === address).map((l) => l.bytes);
  }
}

const noSleep = (): Promise<void> => Promise.resolve();

test("PCF8574 nibbles: data on P4-P7, strobed by E (P2) high then low, backlight P3 kept on", (t) => {
  t.deepEqual(nibbleBytes(0x3, 0x08), [0x3c, 0x38]);
  t.deepEqual(byteBytes(0x41, true), [0x4d, 0x49, 0x1d, 0x19]); // 'A', RS=1
  t.deepEqual(byteBytes(0x28, false), [0x2c, 0x28, 0x8c, 0x88]);
});

test("HD44780 init: three 0x3 nibbles, 0x2 for 4-bit mode, then function set, display off, clear, entry mode, display on", async (t) => {
  const bus = new FakeBus();
  const sleeps: number[] = [];
  const lcd = new Hd44780Pcf8574(bus, 0x27, (ms) => {
    sleeps.push(ms);
    return Promise.resolve();
  });
  await lcd.init();
  t.deepEqual(bus.writes(0x27), [
    [0x08],
    [0x3c, 0x38],
    [0x3c, 0x38],
    [0x3c, 0x38],
    [0x2c, 0x28],
    [0x2c, 0x28, 0x8c, 0x88], // 0x28 function set: 4-bit, 2 lines, 5x8
    [0x0c, 0x08, 0x8c, 0x88], // 0x08 display off
    [0x0c, 0x08, 0x1c, 0x18], // 0x01 clear
    [0x0c, 0x08, 0x6c, 0x68], // 0x06 entry mode: increment
    [0x0c, 0x08, 0xcc, 0xc8], // 0x0C display on, no cursor
  ]);
  t.deepEqual(sleeps, [50, 5, 1, 2]);
});

test("HD44780 rows go to DDRAM 0x00, 0x40, 0x14, 0x54, and only changed rows are rewritten", async (t) => {
  const bus = new FakeBus();
  const lcd = new Hd44780Pcf8574(bus, 0x3f, noSleep);
  await lcd.init();
  bus.log.length = 0;
  await lcd.show(["Row one", "Row two", "Row three", "Row four"]);
  const rows = bus.writes(0x3f);
  t.is(rows.length, 4);
  t.deepEqual(
    rows.map((r) => r.slice(0, 4)),
    [byteBytes(0x80, false), byteBytes(0xc0, false), byteBytes(0x94, false), byteBytes(0xd4, false)],
  );
  for (const r of rows) t.is(r.length, 4 + 20 * 4);
  t.deepEqual(rows[0]?.slice(4, 8), byteBytes("R".charCodeAt(0), true));
  t.deepEqual(rows[0]?.slice(-4), byteBytes(0x20, true)); // padded with spaces to 20 columns
  bus.log.length = 0;
  await lcd.show(["Row one", "Row 2", "Row three", "Row four"]);
  t.deepEqual(
    bus.writes(0x3f).map((r) => r.slice(0, 4)),
    [byteBytes(0xc0, false)],
  );
});

test("MCP23017 init: IOCON mirror, LEDs off, low nibbles inputs with pull-ups and interrupt-on-change; GPA7/GPB7 are outputs", async (t) => {
  const bus = new FakeBus();
  await new Mcp23017(bus, 0x20).init();
  t.deepEqual(bus.writes(0x20), [
    [0x0a, 0x40], // IOCON: MIRROR
    [0x14, 0x00, 0x00], // OLATA/B: LEDs off before any pin becomes an output
    [0x00, 0x0f, 0x0f], // IODIRA/B: bits 0-3 in, 4-7 out (GPA7, GPB7 output-only on new parts)
    [0x0c, 0x0f, 0x0f], // GPPUA/B: pull-ups on the buttons
    [0x08, 0x00, 0x00], // INTCONA/B: interrupt on any change
    [0x04, 0x0f, 0x0f], // GPINTENA/B
  ]);
});

test("MCP23017 LEDs: OLAT bits 4-7 of each port, written only when they change", async (t) => {
  const bus = new FakeBus();
  const chip = new Mcp23017(bus, 0x21);
  await chip.setLeds([true, false, false, true, false, true, false, true]);
  t.deepEqual(bus.writes(0x21), [[0x14, 0x90, 0xa0]]);
  await chip.setLeds([true, false, false, true, false, true, false, true]);
  t.is(bus.writes(0x21).length, 1);
});

test("MCP23017 buttons: pressed reads low; a tap captured in INTCAP is reported before the current level", async (t) => {
  const bus = new FakeBus();
  const regs = new Array<number>(0x16).fill(0);
  regs[0x12] = 0xff & ~0x02; // GPIOA: button 2 (GPA1) held
  regs[0x13] = 0xff;
  bus.registers.set(0x20, regs);
  regs[0x0e] = 0x00; // no interrupt flags
  const chipA = new Mcp23017(bus, 0x20);
  const keypad = new Mcp23017Keypad([chipA, new Mcp23017(bus, 0x21)], 10, silentLogger());
  bus.registers.set(0x21, Object.assign(new Array<number>(0x16).fill(0xff), { 0x0e: 0, 0x0f: 0 }));
  const events: [number, boolean][] = [];
  await keypad.poll((i, p) => events.push([i, p]));
  t.deepEqual(events, [[1, true]]);
  t.deepEqual(
    bus.log.slice(0, 4).map((l) => [l.op, l.bytes]),
    [
      ["w", [0x0e]],
      ["r", [0, 0, 0, 0]],
      ["w", [0x12]],
      ["r", [0xfd, 0xff]],
    ],
  );
  // Button 9 (chip B, GPA0) tapped between two polls: INTF says so, INTCAP has it pressed, GPIO shows it released.
  events.length = 0;
  const b = bus.registers.get(0x21) ?? [];
  b[0x0e] = 0x01;
  b[0x10] = 0xfe;
  b[0x11] = 0xff;
  await keypad.poll((i, p) => events.push([i, p]));
  t.deepEqual(events, [
    [8, true],
    [8, false],
  ]);
});

test("Bookworm GPIO numbering: the header chip's sysfs base is found and added to BCM numbers", (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "gpio-"));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const chip = (name: string, base: number, label: string): void => {
    fs.mkdirSync(path.join(root, name));
    fs.writeFileSync(path.join(root, name, "base"), `${base}\n`);
    fs.writeFileSync(path.join(root, name, "label"), `${label}\n`);
  };
  t.is(findGpioBase(root), null);
  chip("gpiochip570", 570, "raspberrypi-exp-gpio");
  chip("gpiochip512", 512, "pinctrl-bcm2711");
  t.is(findGpioBase(root), 512);
  t.is(sysfsNumber(17, 512), 529);
  t.is(findGpioBase(path.join(root, "missing")), null);
});

test("GPIO keypad over sysfs with base 512: exports 512+BCM, buttons active low, LEDs written as 1/0", async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "gpio-"));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  // What the kernel would have created after the exports.
  for (const n of [517, 518, 525]) {
    fs.mkdirSync(path.join(root, `gpio${n}`));
    fs.writeFileSync(path.join(root, `gpio${n}`, "value"), "1");
  }
  const gpio = new SysfsGpio(512, 1_000_000, root);
  const keypad = new GpioKeypad(gpio, [5, 6], [13]);
  const events: [number, boolean][] = [];
  await keypad.start((i, p) => events.push([i, p]));
  t.is(fs.readFileSync(path.join(root, "gpio517", "direction"), "utf8"), "in");
  t.is(fs.readFileSync(path.join(root, "gpio525", "direction"), "utf8"), "low");
  await gpio.poll();
  t.deepEqual(events, [
    [0, false],
    [1, false],
  ]);
  fs.writeFileSync(path.join(root, "gpio518", "value"), "0");
  await gpio.poll();
  t.deepEqual(events.at(-1), [1, true]);
  await keypad.setLeds([true]);
  t.is(fs.readFileSync(path.join(root, "gpio525", "value"), "utf8"), "1");
  await keypad.close();
  t.is(fs.readFileSync(path.join(root, "gpio525", "value"), "utf8"), "0");
});

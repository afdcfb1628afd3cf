// The one place that chooses the panel's hardware: the simulated panel, I2C (HD44780/PCF8574 LCD and two
// MCP23017) or direct GPIO. Native modules are imported only when real hardware is asked for.
import type { Logger } from "../../log/logger.ts";
import { realSleep } from "../../lib/sleep.ts";
import type { I2cBus } from "../../lib/i2c-bus.ts";
import type { PanelSettings } from "../../config/panel-schema.ts";
import { SimPanel } from "../sim/sim-panel.ts";
import { openRpiGpio, SysfsGpio, type GpioBackend } from "./gpio-backend.ts";
import { GpioKeypad } from "./gpio-keypad.ts";
import { findGpioBase } from "./gpio-numbering.ts";
import { Hd44780Pcf8574 } from "./hd44780-pcf8574.ts";
import { Mcp23017 } from "./mcp23017.ts";
import { Mcp23017Keypad } from "./mcp23017-keypad.ts";
import type { PanelDriver, TextDisplay } from "./panel-driver.ts";

export type CreatedDriver = PanelDriver & { sim: SimPanel | null };

const noDisplay: TextDisplay = { show: () => Promise.resolve(), close: () => Promise.resolve() };

export async function createPanelDriver(
  panel: PanelSettings,
  buttonCount: number,
  logger: Logger,
): Promise<CreatedDriver> {
  if (panel.driver === "sim") {
    const sim = new SimPanel(buttonCount);
    return { display: sim, keypad: sim, sim, description: "simulated panel", close: () => sim.close() };
  }
  let bus: I2cBus | null = null;
  const openBus = async (): Promise<I2cBus> => {
    const { openNativeI2cBus } = await import("../../lib/i2c-bus-native.ts");
    bus ??= await openNativeI2cBus(panel.i2c.bus);
    return bus;
  };
  let display = noDisplay;
  let lcdText = "no LCD";
  if (panel.lcd === "pcf8574") {
    const lcd = new Hd44780Pcf8574(await openBus(), panel.i2c.lcdAddress, realSleep);
    await lcd.init();
    display = lcd;
    lcdText = `LCD 0x${panel.i2c.lcdAddress.toString(16)} on /dev/i2c-${panel.i2c.bus}`;
  }
  const closeAll = async (keypadClose: () => Promise<void>): Promise<void> => {
    await keypadClose();
    await display.close().catch(() => undefined);
    await bus?.close();
  };
  if (panel.driver === "i2c") {
    const i2c = await openBus();
    const keypad = new Mcp23017Keypad(
      [new Mcp23017(i2c, panel.i2c.expanderA), new Mcp23017(i2c, panel.i2c.expanderB)],
      panel.i2c.pollMs,
      logger,
    );
    const description = `${lcdText}, MCP23017 0x${panel.i2c.expanderA.toString(16)}/0x${panel.i2c.expanderB.toString(16)}`;
    return { display, keypad, sim: null, description, close: () => closeAll(() => keypad.close()) };
  }
  const { buttons, leds } = panel.gpio;
  if (buttons.length === 0)
    throw new Error(
      "panel.gpio.buttons (PIPDU_PANEL_GPIO_BUTTONS) lists no GPIO: the gpio driver needs at least one button",
    );
  const base = panel.gpio.base >= 0 ? panel.gpio.base : (findGpioBase() ?? 0);
  // rpi-gpio writes raw BCM numbers to sysfs: right only while the header's chip starts at 0.
  const gpio: GpioBackend = base === 0 ? await openRpiGpio() : new SysfsGpio(base, panel.i2c.pollMs);
  const keypad = new GpioKeypad(gpio, buttons, leds);
  const description = `${lcdText}, ${buttons.length} buttons on GPIO (${base === 0 ? "rpi-gpio" : `sysfs base ${base}`})`;
  return { display, keypad, sim: null, description, close: () => closeAll(() => keypad.close()) };
}

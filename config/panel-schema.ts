// The `panel` section of the configuration schema: the front-rack panel (pipdu panel) and its drivers.
import { jsonFormat, matching, numberIn, oneOf } from "./formats.ts";

export interface ButtonBinding {
  pdu: string;
  outlet: number;
  /** Needs the protected hold even if the PDU does not mark the outlet protected. */
  protected?: boolean;
}

export interface PanelSettings {
  enabled: boolean;
  driver: "sim" | "i2c" | "gpio";
  buttons: (ButtonBinding | string)[];
  shortPressMs: number;
  longPressMs: number;
  protectedHoldMs: number;
  debounceMs: number;
  screenSeconds: number;
  locked: boolean;
  offlineLeds: "dark" | "blink";
  host: string;
  port: number;
  lcd: "pcf8574" | "none";
  i2c: { bus: number; lcdAddress: number; expanderA: number; expanderB: number; pollMs: number };
  gpio: { buttons: number[]; leds: number[]; base: number };
}

const PDU_ID = /^[a-z0-9_-]{1,64}$/;

/** "pdu1/3" or {"pdu":"pdu1","outlet":3,"protected":true}; at most 16 buttons. */
export function validateButtons(value: unknown): void {
  if (!Array.isArray(value))
    throw new Error('must be a list of buttons, e.g. ["pdu1/1", {"pdu":"pdu1","outlet":2}]');
  if (value.length > 16) throw new Error("lists at most 16 buttons");
  value.forEach((item: unknown, i) => {
    const where = `button ${i + 1}`;
    if (typeof item === "string") {
      const m = /^([^/]+)\/(\d{1,2})$/.exec(item);
      if (!m || !PDU_ID.test(m[1] ?? "") || Number(m[2]) < 1 || Number(m[2]) > 16)
        throw new Error(`${where} "${item}" must look like "pdu1/3" (PDU id / outlet 1-16)`);
      return;
    }
    if (typeof item !== "object" || item === null || Array.isArray(item))
      throw new Error(`${where} must be "pdu/outlet" or an object`);
    const o = item as Record<string, unknown>;
    const unknown = Object.keys(o).find((k) => !["pdu", "outlet", "protected"].includes(k));
    if (unknown !== undefined)
      throw new Error(`${where} has unknown key "${unknown}"; allowed: pdu, outlet, protected`);
    if (typeof o["pdu"] !== "string" || !PDU_ID.test(o["pdu"]))
      throw new Error(`${where} pdu must be a PDU id (a-z, 0-9, _ and -)`);
    if (
      typeof o["outlet"] !== "number" ||
      !Number.isInteger(o["outlet"]) ||
      o["outlet"] < 1 ||
      o["outlet"] > 16
    )
      throw new Error(`${where} outlet must be an integer from 1 to 16`);
    if (o["protected"] !== undefined && typeof o["protected"] !== "boolean")
      throw new Error(`${where} protected must be true or false`);
  });
}

const jsonList = jsonFormat;

function bcmList(value: unknown): void {
  if (
    !Array.isArray(value) ||
    value.length > 16 ||
    !value.every((v) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 27)
  ) {
    throw new Error("must be a list of up to 16 BCM GPIO numbers from 0 to 27, e.g. [5,6,13]");
  }
  if (new Set(value).size !== value.length) throw new Error("lists a GPIO number twice");
}

export const panelSchema = {
  enabled: {
    doc: "Run the simulated panel with pipdu start.",
    format: "bool",
    default: true,
    env: "PIPDU_PANEL_ENABLED",
  },
  driver: {
    doc: "sim: a web page; i2c: HD44780/PCF8574 LCD + two MCP23017; gpio: buttons and LEDs on Pi GPIO (rpi-gpio), LCD on I2C.",
    format: oneOf(["sim", "i2c", "gpio"]),
    default: "sim",
    env: "PIPDU_PANEL_DRIVER",
    arg: "panel.driver",
  },
  buttons: {
    doc: 'Button n switches this outlet: ["pdu1/1", {"pdu":"pdu2","outlet":4,"protected":true}]. Empty: outlets 1-16 of pdu.id. Env value is JSON.',
    format: jsonList("panel-button-list", validateButtons),
    default: [] as unknown[],
    env: "PIPDU_PANEL_BUTTONS",
  },
  shortPressMs: {
    doc: "A press shorter than this shows the outlet.",
    format: numberIn("panel-short-press", 50, 5000, true),
    default: 600,
    env: "PIPDU_PANEL_SHORT_PRESS_MS",
  },
  longPressMs: {
    doc: "A hold this long switches the outlet.",
    format: numberIn("panel-long-press", 200, 20000, true),
    default: 1500,
    env: "PIPDU_PANEL_LONG_PRESS_MS",
  },
  protectedHoldMs: {
    doc: "Hold needed to switch a protected outlet.",
    format: numberIn("panel-protected-hold", 200, 60000, true),
    default: 5000,
    env: "PIPDU_PANEL_PROTECTED_HOLD_MS",
  },
  debounceMs: {
    doc: "A button level must be stable this long to count.",
    format: numberIn("panel-debounce", 0, 200, true),
    default: 30,
    env: "PIPDU_PANEL_DEBOUNCE_MS",
  },
  screenSeconds: {
    doc: "How long an outlet or result screen stays before the idle screen.",
    format: numberIn("panel-screen-seconds", 1, 120),
    default: 5,
    env: "PIPDU_PANEL_SCREEN_SECONDS",
  },
  locked: {
    doc: "Locked: buttons only show outlets, never switch them.",
    format: "bool",
    default: false,
    env: "PIPDU_PANEL_LOCKED",
    arg: "panel.locked",
  },
  offlineLeds: {
    doc: "LEDs of an offline PDU: dark or blink (slowly).",
    format: oneOf(["dark", "blink"]),
    default: "blink",
    env: "PIPDU_PANEL_OFFLINE_LEDS",
  },
  host: {
    doc: "Address the simulated panel page listens on (it can switch outlets: keep it on loopback unless the network is trusted).",
    format: matching(/^[0-9a-zA-Z.:_-]+$/, "a host name or IP address"),
    default: "127.0.0.1",
    env: "PIPDU_PANEL_HOST",
  },
  port: {
    doc: "Port of the simulated panel page and its JSON API (0 = any free port).",
    format: "tcp-port",
    default: 8081,
    env: "PIPDU_PANEL_PORT",
    arg: "panel.port",
  },
  lcd: {
    doc: "LCD of the i2c and gpio drivers: pcf8574 (HD44780 2004 behind a PCF8574 backpack) or none.",
    format: oneOf(["pcf8574", "none"]),
    default: "pcf8574",
    env: "PIPDU_PANEL_LCD",
  },
  i2c: {
    bus: {
      doc: "I2C bus of the panel (/dev/i2c-N).",
      format: numberIn("panel-i2c-bus", 0, 255, true),
      default: 1,
      env: "PIPDU_PANEL_I2C_BUS",
    },
    lcdAddress: {
      doc: "PCF8574 backpack address (usually 0x27 or 0x3F).",
      format: numberIn("panel-lcd-address", 0x08, 0x77, true),
      default: 0x27,
      env: "PIPDU_PANEL_I2C_LCD_ADDRESS",
    },
    expanderA: {
      doc: "MCP23017 for buttons 1-8.",
      format: numberIn("panel-expander-a", 0x20, 0x27, true),
      default: 0x20,
      env: "PIPDU_PANEL_I2C_EXPANDER_A",
    },
    expanderB: {
      doc: "MCP23017 for buttons 9-16.",
      format: numberIn("panel-expander-b", 0x20, 0x27, true),
      default: 0x21,
      env: "PIPDU_PANEL_I2C_EXPANDER_B",
    },
    pollMs: {
      doc: "Milliseconds between button reads.",
      format: numberIn("panel-poll", 5, 200, true),
      default: 15,
      env: "PIPDU_PANEL_I2C_POLL_MS",
    },
  },
  gpio: {
    buttons: {
      doc: "BCM GPIO numbers of buttons 1..n (active low, pull-ups fitted). Env value is JSON.",
      format: jsonList("panel-gpio-buttons", bcmList),
      default: [] as number[],
      env: "PIPDU_PANEL_GPIO_BUTTONS",
    },
    leds: {
      doc: "BCM GPIO numbers of LEDs 1..n (active high). Env value is JSON.",
      format: jsonList("panel-gpio-leds", bcmList),
      default: [] as number[],
      env: "PIPDU_PANEL_GPIO_LEDS",
    },
    base: {
      doc: "sysfs number of BCM GPIO 0: -1 finds it (0 before Bookworm, 512+ from kernel 6.6 on).",
      format: numberIn("panel-gpio-base", -1, 4096, true),
      default: -1,
      env: "PIPDU_PANEL_GPIO_BASE",
    },
  },
};

/** Button n (0-based) → PDU outlet; an empty list maps buttons 1-16 to outlets 1-16 of the local PDU. */
export function resolveButtons(panel: PanelSettings, localPdu: string, outletCount: number): ButtonBinding[] {
  if (panel.buttons.length === 0)
    return Array.from({ length: outletCount }, (_, i) => ({ pdu: localPdu, outlet: i + 1 }));
  return panel.buttons.map((b) => {
    if (typeof b !== "string") return b;
    const [pdu = "", outlet = "0"] = b.split("/");
    return { pdu, outlet: Number(outlet) };
  });
}

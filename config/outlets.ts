// Per-outlet settings: names (shown in Home Assistant, the panel and the web page), protection, simulated load.
import { jsonFormat } from "./formats.ts";

export interface SimLoad {
  /** Steady draw when on. */
  watts: number;
  /** Random variation, ± watts. */
  noise: number;
  /** Extra watts right after switch-on, decaying over about a second. */
  inrush: number;
}

export interface OutletConfig {
  name?: string;
  protected?: boolean;
  load?: Partial<SimLoad>;
  /** Amperes this outlet may draw; switching it on when it is expected to draw more is refused. */
  maxCurrent?: number;
  /** Shedding order on overload: lower numbers go first (default 5). */
  priority?: number;
  /** Seconds to wait before this outlet in an all-on. */
  onDelay?: number;
  /** Amperes that count as "drawing" for the load checks (default safety.loadThreshold). */
  loadThreshold?: number;
}

const OUTLET_KEYS = ["name", "protected", "load", "maxCurrent", "priority", "onDelay", "loadThreshold"];
const NUMBERS: Record<string, [min: number, max: number, what: string]> = {
  maxCurrent: [0.01, 63, "amperes from 0.01 to 63"],
  priority: [0, 100, "a number from 0 to 100"],
  onDelay: [0, 600, "seconds from 0 to 600"],
  loadThreshold: [0.001, 16, "amperes from 0.001 to 16"],
};
const LOAD_KEYS = ["watts", "noise", "inrush"];

export function validateOutlets(value: unknown): void {
  if (!Array.isArray(value)) throw new Error('must be a list of outlet settings, e.g. [{"name":"Switch"}]');
  if (value.length > 16) throw new Error("lists at most 16 outlets");
  value.forEach((item: unknown, i) => {
    const where = `outlet ${i + 1}`;
    if (typeof item !== "object" || item === null || Array.isArray(item))
      throw new Error(`${where} must be an object`);
    const o = item as Record<string, unknown>;
    const unknown = Object.keys(o).find((k) => !OUTLET_KEYS.includes(k));
    if (unknown !== undefined)
      throw new Error(`${where} has unknown key "${unknown}"; allowed: ${OUTLET_KEYS.join(", ")}`);
    if (
      o["name"] !== undefined &&
      (typeof o["name"] !== "string" || !/^[^\u0000-\u001f]{1,40}$/.test(o["name"]))
    ) {
      throw new Error(`${where} name must be 1 to 40 printable characters`);
    }
    if (o["protected"] !== undefined && typeof o["protected"] !== "boolean")
      throw new Error(`${where} protected must be true or false`);
    for (const [key, [min, max, what]] of Object.entries(NUMBERS)) {
      const v = o[key];
      if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)) {
        throw new Error(`${where} ${key} must be ${what}`);
      }
    }
    const load = o["load"];
    if (load !== undefined) {
      if (typeof load !== "object" || load === null) throw new Error(`${where} load must be an object`);
      for (const [k, v] of Object.entries(load)) {
        if (!LOAD_KEYS.includes(k))
          throw new Error(`${where} load has unknown key "${k}"; allowed: ${LOAD_KEYS.join(", ")}`);
        if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 4000)
          throw new Error(`${where} load.${k} must be watts from 0 to 4000`);
      }
    }
  });
}

jsonFormat("outlet-list", validateOutlets);

// LCD screens as pure functions: each returns exactly 4 lines of exactly 20 characters the HD44780's
// ROM can show (printable ASCII; anything else is transliterated or becomes "?").

export const LCD_COLUMNS = 20;
export const LCD_ROWS = 4;

export type Screen = [string, string, string, string];

/** Printable ASCII only: accents dropped, "…" spelled "...", other characters "?". */
export function lcdText(text: string): string {
  return text
    .replace(/…/g, "...")
    .replace(/[‘’]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/[–—]/g, "-")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\x20-\x7e]/g, "?");
}

/** One line: cut or padded to exactly 20 characters. */
export function line(text: string): string {
  return lcdText(text).slice(0, LCD_COLUMNS).padEnd(LCD_COLUMNS);
}

/** Left text and right text on one line; the left one is cut so the right one always shows. */
export function spread(left: string, right: string): string {
  const r = lcdText(right).slice(0, LCD_COLUMNS);
  const room = LCD_COLUMNS - r.length - (r.length > 0 ? 1 : 0);
  return (
    lcdText(left)
      .slice(0, Math.max(0, room))
      .padEnd(LCD_COLUMNS - r.length) + r
  ).slice(0, LCD_COLUMNS);
}

/** Words wrapped over at most `rows` lines (a word longer than a line is cut). */
export function wrap(text: string, rows: number): string[] {
  const out: string[] = [];
  let current = "";
  for (const word of lcdText(text)
    .split(/\s+/)
    .filter((w) => w.length > 0)) {
    const candidate = current.length === 0 ? word : `${current} ${word}`;
    if (candidate.length <= LCD_COLUMNS) {
      current = candidate;
      continue;
    }
    if (current.length > 0) out.push(current);
    current = word.slice(0, LCD_COLUMNS);
  }
  if (current.length > 0) out.push(current);
  if (out.length > rows) {
    const kept = out.slice(0, rows);
    const last = kept[rows - 1] ?? "";
    kept[rows - 1] = last.length > LCD_COLUMNS - 3 ? `${last.slice(0, LCD_COLUMNS - 3)}...` : `${last}...`;
    return kept;
  }
  return out;
}

function screen(lines: string[]): Screen {
  const [a = "", b = "", c = "", d = ""] = lines;
  return [line(a), line(b), line(c), line(d)];
}

export function formatWatts(w: number | null): string {
  if (w === null) return "-- W";
  return Math.abs(w) >= 1000 ? `${Math.round(w)} W` : `${w.toFixed(1)} W`;
}
export function formatAmps(a: number | null): string {
  return a === null ? "-- A" : `${a.toFixed(a >= 10 ? 2 : 3)} A`;
}
export function formatKwh(kwh: number | null): string {
  return kwh === null ? "-- kWh" : `${kwh.toFixed(kwh >= 1000 ? 1 : 3)} kWh`;
}

export interface IdleInput {
  pduName: string;
  power: number | null;
  current: number | null;
  outletsOn: number;
  outletCount: number;
  /** "HH:MM". */
  time: string;
  /** Where the panel is reachable, or a notice such as "pdu2 offline". */
  footer: string;
}

export function idleScreen(i: IdleInput): Screen {
  return screen([
    spread(i.pduName, i.time),
    spread(formatWatts(i.power), formatAmps(i.current)),
    `Outlets on ${i.outletsOn} of ${i.outletCount}`,
    i.footer,
  ]);
}

export interface OutletInput {
  number: number;
  name: string;
  state: "ON" | "OFF" | null;
  power: number | null;
  current: number | null;
  energy: number | null;
  /** Shown instead of the readings' last line, e.g. "PDU offline". */
  notice?: string;
}

export function outletScreen(o: OutletInput): Screen {
  return screen([
    spread(`${o.number} ${o.name}`, o.state ?? "?"),
    spread("Power", formatWatts(o.power)),
    spread("Current", formatAmps(o.current)),
    o.notice ?? spread("Energy", formatKwh(o.energy)),
  ]);
}

export interface HoldInput {
  number: number;
  name: string;
  /** What the hold will do. */
  target: "ON" | "OFF" | "TOGGLE";
  progress: number;
  protectedOutlet: boolean;
}

export function holdScreen(h: HoldInput): Screen {
  const width = LCD_COLUMNS - 2;
  const filled = Math.round(Math.max(0, Math.min(1, h.progress)) * width);
  return screen([
    `${h.number} ${h.name}`,
    h.target === "TOGGLE" ? "Hold to switch..." : `Hold to switch ${h.target}...`,
    `[${"#".repeat(filled)}${".".repeat(width - filled)}]`,
    h.protectedOutlet ? "Protected: hold on" : "Release to cancel",
  ]);
}

export function pendingScreen(number: number, name: string, target: "ON" | "OFF" | "TOGGLE"): Screen {
  return screen([
    `${number} ${name}`,
    target === "TOGGLE" ? "Switching..." : `Switching ${target}...`,
    "",
    "Waiting for the PDU",
  ]);
}

export function resultScreen(
  number: number,
  name: string,
  outcome: { ok: true; state: "ON" | "OFF" | null } | { ok: false; message: string },
): Screen {
  if (outcome.ok)
    return screen([
      `${number} ${name}`,
      outcome.state === null ? "Done" : `Switched ${outcome.state}`,
      "",
      "",
    ]);
  return screen([`${number} ${name}`, "Failed:", ...wrap(outcome.message, 2)]);
}

/** A problem the whole panel has: title on the first line, the explanation wrapped below. */
export function errorScreen(title: string, message: string): Screen {
  return screen([`! ${title}`, ...wrap(message, 3)]);
}

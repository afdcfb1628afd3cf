// What each button's LED shows, as pure functions of what the panel knows and the time.

export type LedMode = "off" | "on" | "blink" | "slow-blink";

export interface LedInput {
  /** The panel's broker connection is up. */
  connected: boolean;
  /** The PDU's availability: true online, false offline, null never seen. */
  pduOnline: boolean | null;
  state: "ON" | "OFF" | null;
  /** A command from this panel is waiting for its result. */
  pending: boolean;
  offlineLeds: "dark" | "blink";
}

export function ledMode(i: LedInput): LedMode {
  // Without the broker every state is stale: dark, and the LCD says why.
  if (!i.connected) return "off";
  if (i.pending) return "blink";
  if (i.pduOnline !== true) return i.offlineLeds === "blink" ? "slow-blink" : "off";
  return i.state === "ON" ? "on" : "off";
}

/** Fast blink 4 Hz (pending), slow blink 0.5 Hz (offline). */
export const FAST_BLINK_MS = 125;
export const SLOW_BLINK_MS = 1000;

export function ledLit(mode: LedMode, now: number): boolean {
  switch (mode) {
    case "on":
      return true;
    case "off":
      return false;
    case "blink":
      return Math.floor(now / FAST_BLINK_MS) % 2 === 0;
    case "slow-blink":
      return Math.floor(now / SLOW_BLINK_MS) % 2 === 0;
  }
}

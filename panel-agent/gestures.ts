// Button gestures from raw button levels and a clock the caller passes in: no timers here, so tests drive
// time by hand. A level must be stable for `debounceMs` to count; the edge is dated at its first sample, so
// debouncing does not shorten or lengthen a press.
//
//   released before shortPressMs          → short   (show the outlet)
//   still held at shortPressMs            → holding (LCD: "hold to switch …", with progress)
//   released between shortPressMs and long → cancelled
//   held for longMs (per button)          → long    (switch), fired while still held; the release is quiet

export interface GestureTiming {
  debounceMs: number;
  shortPressMs: number;
  /** Hold that switches this button's outlet (protected outlets need a longer one). */
  longMs: (button: number) => number;
}

export type GestureEvent =
  | { type: "down"; button: number }
  | { type: "short"; button: number }
  | { type: "holding"; button: number; heldMs: number; progress: number }
  | { type: "cancelled"; button: number }
  | { type: "long"; button: number };

interface ButtonState {
  raw: boolean;
  rawSince: number;
  stable: boolean;
  pressedAt: number;
  longFired: boolean;
  longMs: number;
}

export class GestureDetector {
  private readonly buttons = new Map<number, ButtonState>();

  constructor(private readonly timing: GestureTiming) {}

  /** A raw level sample (true = pressed) of one button at time `now` (ms). */
  input(button: number, pressed: boolean, now: number): GestureEvent[] {
    const b = this.state(button, now);
    if (pressed !== b.raw) {
      b.raw = pressed;
      b.rawSince = now;
    }
    return this.evaluate(button, b, now);
  }

  /** Advance time: settles debounced edges, reports holds and long presses. */
  tick(now: number): GestureEvent[] {
    const events: GestureEvent[] = [];
    for (const [button, b] of this.buttons) events.push(...this.evaluate(button, b, now));
    return events;
  }

  /** Buttons currently held (debounced), for the panel to know whether a screen is in use. */
  held(): number[] {
    return [...this.buttons].filter(([, b]) => b.stable).map(([n]) => n);
  }

  private state(button: number, now: number): ButtonState {
    let b = this.buttons.get(button);
    if (!b) {
      b = { raw: false, rawSince: now, stable: false, pressedAt: 0, longFired: false, longMs: 0 };
      this.buttons.set(button, b);
    }
    return b;
  }

  private evaluate(button: number, b: ButtonState, now: number): GestureEvent[] {
    const events: GestureEvent[] = [];
    const settled = b.raw !== b.stable && now - b.rawSince >= this.timing.debounceMs;
    if (b.stable && !b.longFired) {
      // Held continuously until the release edge (if one is pending) or until now.
      const heldUntil = b.raw ? now : b.rawSince;
      const held = heldUntil - b.pressedAt;
      if (held >= b.longMs && (b.raw || settled)) {
        b.longFired = true;
        events.push({ type: "long", button });
      } else if (held >= this.timing.shortPressMs && b.raw) {
        events.push({ type: "holding", button, heldMs: held, progress: Math.min(1, held / b.longMs) });
      }
    }
    if (!settled) return events;
    b.stable = b.raw;
    if (b.stable) {
      b.pressedAt = b.rawSince;
      b.longFired = false;
      b.longMs = this.timing.longMs(button);
      events.push({ type: "down", button });
      // A press already older than the thresholds when it settles (slow debounce, late tick).
      events.push(...this.evaluate(button, b, now));
    } else if (!b.longFired) {
      const held = b.rawSince - b.pressedAt;
      events.push(
        held < this.timing.shortPressMs ? { type: "short", button } : { type: "cancelled", button },
      );
    }
    return events;
  }
}

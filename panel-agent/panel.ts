// The panel's behaviour: button gestures become screens and commands, PDU state becomes LEDs. No I/O of its
// own: the display, the keypad, the PDU directory and the clock are passed in, so tests run it by hand.
import type { CommandRequest, PduView } from "../client/pdu-directory.ts";
import type { ResultPayload } from "../protocol/payloads.ts";
import type { Logger } from "../log/logger.ts";
import type { ButtonBinding } from "../config/panel-schema.ts";
import type { Keypad, TextDisplay } from "./drivers/panel-driver.ts";
import { GestureDetector, type GestureEvent } from "./gestures.ts";
import { ledLit, ledMode, type LedMode } from "./leds.ts";
import {
  errorScreen,
  holdScreen,
  idleScreen,
  outletScreen,
  pendingScreen,
  resultScreen,
  type Screen,
} from "./screens.ts";

/** The part of PduDirectory the panel uses. */
export interface PduSource {
  get(pdu: string): PduView | undefined;
  command(pdu: string, outlet: number, request: CommandRequest, timeoutMs?: number): Promise<ResultPayload>;
}

export interface PanelOptions {
  buttons: ButtonBinding[];
  shortPressMs: number;
  longPressMs: number;
  protectedHoldMs: number;
  debounceMs: number;
  screenSeconds: number;
  locked: boolean;
  offlineLeds: "dark" | "blink";
  /** Shown where the broker is unreachable, e.g. "127.0.0.1:1883". */
  brokerLabel: string;
  /** Last line of the idle screen: where the panel is, e.g. "10.0.0.7". */
  footer: string;
}

export interface PanelDeps {
  display: TextDisplay;
  keypad: Keypad;
  options: PanelOptions;
  logger: Logger;
  now?: () => number;
  /** "HH:MM" for the idle screen. */
  timeText?: (now: number) => string;
}

type Target = "ON" | "OFF" | "TOGGLE";

/** How long an agent whose availability says offline gets to answer a command anyway. */
export const OFFLINE_ANSWER_MS = 3000;
type Overlay =
  | { kind: "outlet"; button: number; until: number }
  | { kind: "hold"; button: number; progress: number }
  | { kind: "pending"; button: number; target: Target }
  | {
      kind: "result";
      button: number;
      until: number;
      outcome: { ok: true; state: "ON" | "OFF" | null } | { ok: false; message: string };
    };

export class Panel {
  private readonly detector: GestureDetector;
  private readonly now: () => number;
  private source: PduSource | null = null;
  private connected = false;
  private overlay: Overlay | null = null;
  private idlePdu: string;
  private readonly pending = new Set<string>();
  private shownText: string[] = [];
  private shownLeds: boolean[] = [];
  private writing: Promise<void> | null = null;
  private dirty = false;
  private lastWriteError = "";

  constructor(private readonly deps: PanelDeps) {
    this.now = deps.now ?? Date.now;
    const { options } = deps;
    this.idlePdu = options.buttons[0]?.pdu ?? "";
    this.detector = new GestureDetector({
      debounceMs: options.debounceMs,
      shortPressMs: options.shortPressMs,
      longMs: (button) => (this.isProtected(button) ? options.protectedHoldMs : options.longPressMs),
    });
  }

  /** The PDU directory once the broker answers; null while it does not. */
  setSource(source: PduSource | null): void {
    this.source = source;
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
    this.render();
  }

  /** A raw button level from the keypad (index 0-based). */
  input(index: number, pressed: boolean): void {
    if (index < 0 || index >= this.deps.options.buttons.length) return;
    this.handle(this.detector.input(index, pressed, this.now()));
    this.render();
  }

  /** Advance time: holds, long presses, screen time-outs, blinking. */
  tick(): void {
    this.handle(this.detector.tick(this.now()));
    this.render();
  }

  /** The text and LEDs as they should be now (what render() writes). */
  view(): { lines: Screen; lit: boolean[]; modes: LedMode[] } {
    const now = this.now();
    const modes = this.deps.options.buttons.map((b) => this.ledModeOf(b));
    return { lines: this.screen(now), lit: modes.map((m) => ledLit(m, now)), modes };
  }

  /** Resolves when every display and LED write started so far has finished. */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private handle(events: GestureEvent[]): void {
    for (const e of events) {
      const binding = this.deps.options.buttons[e.button];
      if (!binding) continue;
      this.idlePdu = binding.pdu;
      const until = this.now() + this.deps.options.screenSeconds * 1000;
      switch (e.type) {
        case "down":
          break;
        case "short":
        case "cancelled":
          if (!this.isPending(e.button)) this.overlay = { kind: "outlet", button: e.button, until };
          break;
        case "holding":
          if (this.isPending(e.button)) break;
          this.overlay =
            this.deps.options.locked || !this.source?.get(binding.pdu)
              ? { kind: "outlet", button: e.button, until }
              : { kind: "hold", button: e.button, progress: e.progress };
          break;
        case "long":
          this.switchOutlet(e.button, until);
          break;
      }
    }
  }

  private switchOutlet(button: number, until: number): void {
    const binding = this.deps.options.buttons[button];
    if (!binding || this.isPending(button)) return;
    const fail = (message: string): void => {
      this.overlay = { kind: "result", button, until, outcome: { ok: false, message } };
    };
    if (this.deps.options.locked) return fail("The panel is locked.");
    const source = this.source;
    if (!source || !this.connected) return fail("No MQTT broker.");
    if (!source.get(binding.pdu)) return fail(`PDU ${binding.pdu} is offline.`);
    // A retained "offline" may be forged: an offline PDU's agent still gets the command and a short while to
    // answer (one that is really away is not subscribed, so the command cannot run later).
    const online = this.pduOnline(binding.pdu);
    const target = this.target(button);
    const request: CommandRequest = {
      action: target === "TOGGLE" ? "toggle" : target === "ON" ? "on" : "off",
    };
    if (this.isProtected(button)) request.force = true;
    const key = `${binding.pdu}/${binding.outlet}`;
    this.pending.add(key);
    this.overlay = { kind: "pending", button, target };
    this.deps.logger.info(`button ${button + 1}: ${request.action} ${key}`, { component: "panel" });
    source.command(binding.pdu, binding.outlet, request, online ? undefined : OFFLINE_ANSWER_MS).then(
      (result) =>
        this.finish(
          button,
          key,
          result.status === "ok"
            ? { ok: true, state: result.state ?? null }
            : { ok: false, message: result.error?.message ?? "Refused by the PDU." },
        ),
      () =>
        this.finish(button, key, {
          ok: false,
          message: online ? "No answer from the PDU." : `PDU ${binding.pdu} is offline.`,
        }),
    );
  }

  private finish(
    button: number,
    key: string,
    outcome: { ok: true; state: "ON" | "OFF" | null } | { ok: false; message: string },
  ): void {
    this.pending.delete(key);
    if (!outcome.ok)
      this.deps.logger.warn(`button ${button + 1}: ${key} failed: ${outcome.message}`, {
        component: "panel",
      });
    this.overlay = {
      kind: "result",
      button,
      until: this.now() + this.deps.options.screenSeconds * 1000,
      outcome,
    };
    this.render();
  }

  private screen(now: number): Screen {
    const { options } = this.deps;
    if (!this.connected || !this.source)
      return errorScreen("No MQTT broker", `Reconnecting to ${options.brokerLabel}...`);
    const o = this.overlay;
    if (o && !("until" in o && o.until <= now)) {
      const { number, name } = this.outletNameOf(o.button);
      switch (o.kind) {
        case "outlet":
          return outletScreen(this.outletInput(o.button));
        case "hold":
          return holdScreen({
            number,
            name,
            target: this.target(o.button),
            progress: o.progress,
            protectedOutlet: this.isProtected(o.button),
          });
        case "pending":
          return pendingScreen(number, name, o.target);
        case "result":
          return resultScreen(number, name, o.outcome);
      }
    }
    this.overlay = null;
    return this.idleScreen(now);
  }

  private idleScreen(now: number): Screen {
    const { options } = this.deps;
    const pdu = this.source?.get(this.idlePdu);
    if (!pdu?.online)
      return errorScreen(
        `PDU ${this.idlePdu} offline`,
        pdu
          ? `${pdu.name} does not answer; its LEDs ${options.offlineLeds === "blink" ? "blink slowly" : "are dark"}.`
          : "Not seen on the broker yet.",
      );
    const outlets = [...pdu.outlets.values()];
    const sum = (values: (number | null)[]): number | null =>
      values.some((v) => v !== null) ? values.reduce<number>((s, v) => s + (v ?? 0), 0) : null;
    const others = [...new Set(options.buttons.map((b) => b.pdu))].filter(
      (id) => id !== pdu.id && this.source?.get(id)?.online !== true,
    );
    return idleScreen({
      pduName: pdu.name,
      power: sum(outlets.map((x) => x.power)),
      current: sum(outlets.map((x) => x.current)),
      outletsOn: outlets.filter((x) => x.state === "ON").length,
      outletCount: pdu.info?.outlets.length ?? outlets.length,
      time: (this.deps.timeText ?? hhmm)(now),
      footer: others.length > 0 ? `! ${others.join(", ")} offline` : options.footer,
    });
  }

  private outletInput(button: number): Parameters<typeof outletScreen>[0] {
    const binding = this.deps.options.buttons[button];
    const view = binding ? this.source?.get(binding.pdu)?.outlets.get(binding.outlet) : undefined;
    const { number, name } = this.outletNameOf(button);
    const input = {
      number,
      name,
      state: view?.state ?? null,
      power: view?.power ?? null,
      current: view?.current ?? null,
      energy: view?.energy ?? null,
    };
    return binding && !this.pduOnline(binding.pdu)
      ? { ...input, notice: `PDU ${binding.pdu} offline` }
      : input;
  }

  private outletNameOf(button: number): { number: number; name: string } {
    const binding = this.deps.options.buttons[button];
    if (!binding) return { number: button + 1, name: "" };
    const view = this.source?.get(binding.pdu)?.outlets.get(binding.outlet);
    return { number: binding.outlet, name: view?.name ?? `Outlet ${binding.outlet}` };
  }

  private target(button: number): Target {
    const binding = this.deps.options.buttons[button];
    const state = binding ? this.source?.get(binding.pdu)?.outlets.get(binding.outlet)?.state : undefined;
    return state === "ON" ? "OFF" : state === "OFF" ? "ON" : "TOGGLE";
  }

  private isProtected(button: number): boolean {
    const binding = this.deps.options.buttons[button];
    if (!binding) return false;
    return (
      binding.protected === true ||
      this.source?.get(binding.pdu)?.outlets.get(binding.outlet)?.protected === true
    );
  }

  private isPending(button: number): boolean {
    const b = this.deps.options.buttons[button];
    return b !== undefined && this.pending.has(`${b.pdu}/${b.outlet}`);
  }

  private pduOnline(pdu: string): boolean {
    return this.source?.get(pdu)?.online === true;
  }

  private ledModeOf(b: ButtonBinding): LedMode {
    const pdu = this.source?.get(b.pdu);
    return ledMode({
      connected: this.connected && this.source !== null,
      pduOnline: pdu ? pdu.online : null,
      state: pdu?.outlets.get(b.outlet)?.state ?? null,
      pending: this.pending.has(`${b.pdu}/${b.outlet}`),
      offlineLeds: this.deps.options.offlineLeds,
    });
  }

  /** Write what changed; one write at a time, the newest picture wins. */
  private render(): void {
    this.dirty = true;
    if (this.writing) return;
    this.writing = this.flush().finally(() => {
      this.writing = null;
    });
  }

  private async flush(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const { lines, lit, modes } = this.view();
      try {
        if (lines.join("\n") !== this.shownText.join("\n")) {
          await this.deps.display.show(lines);
          this.shownText = lines;
        }
        if (
          lit.some((v, i) => v !== this.shownLeds[i]) ||
          lit.length !== this.shownLeds.length ||
          modes.join() !== this.shownModes
        ) {
          await this.deps.keypad.setLeds(lit, modes);
          this.shownLeds = lit;
          this.shownModes = modes.join();
        }
        this.lastWriteError = "";
      } catch (err) {
        const message = (err as Error).message;
        if (message !== this.lastWriteError)
          this.deps.logger.warn(`panel hardware: ${message}`, { component: "panel" });
        this.lastWriteError = message;
        return;
      }
    }
  }

  private shownModes = "";
}

function hhmm(now: number): string {
  const d = new Date(now);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

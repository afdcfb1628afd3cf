import test from "ava";
import type { CommandRequest, OutletView, PduView } from "../client/pdu-directory.ts";
import { silentLogger } from "../log/logger.ts";
import type { ResultPayload } from "../protocol/payloads.ts";
import type { Keypad, TextDisplay } from "../panel-agent/drivers/panel-driver.ts";
import { ledLit, ledMode, type LedMode } from "../panel-agent/leds.ts";
import { Panel, type PanelOptions, type PduSource } from "../panel-agent/panel.ts";

test("LED mode: state, pending, offline PDU and lost broker", (t) => {
  const base = {
    connected: true,
    pduOnline: true,
    state: "OFF" as const,
    pending: false,
    offlineLeds: "blink" as const,
  };
  t.is(ledMode(base), "off");
  t.is(ledMode({ ...base, state: "ON" }), "on");
  t.is(ledMode({ ...base, state: null }), "off");
  t.is(ledMode({ ...base, state: "ON", pending: true }), "blink");
  t.is(ledMode({ ...base, state: "ON", pduOnline: false }), "slow-blink");
  t.is(ledMode({ ...base, state: "ON", pduOnline: null }), "slow-blink");
  t.is(ledMode({ ...base, state: "ON", pduOnline: false, offlineLeds: "dark" }), "off");
  t.is(ledMode({ ...base, state: "ON", pending: true, connected: false }), "off");
});

test("LED blinking: fast blink alternates every 125 ms, slow every second", (t) => {
  t.deepEqual(
    [0, 124, 125, 250].map((ms) => ledLit("blink", ms)),
    [true, true, false, true],
  );
  t.deepEqual(
    [0, 999, 1000, 2000].map((ms) => ledLit("slow-blink", ms)),
    [true, true, false, true],
  );
  t.true(ledLit("on", 123) && !ledLit("off", 123));
});

// --- the panel's logic, run by hand with a fake directory, display and keypad ---

class FakeSource implements PduSource {
  readonly pdus = new Map<string, PduView>();
  readonly sent: {
    pdu: string;
    outlet: number;
    request: CommandRequest;
    timeoutMs: number | undefined;
    resolve: (r: ResultPayload) => void;
    reject: (err: Error) => void;
  }[] = [];
  get(pdu: string): PduView | undefined {
    return this.pdus.get(pdu);
  }
  command(pdu: string, outlet: number, request: CommandRequest, timeoutMs?: number): Promise<ResultPayload> {
    return new Promise((resolve, reject) =>
      this.sent.push({ pdu, outlet, request, timeoutMs, resolve, reject }),
    );
  }
  addPdu(id: string, states: ("ON" | "OFF")[], online = true, protectedOutlets: number[] = []): void {
    const outlets = new Map<number, OutletView>();
    states.forEach((state, i) =>
      outlets.set(i + 1, {
        number: i + 1,
        name: `Out ${i + 1}`,
        protected: protectedOutlets.includes(i + 1),
        state,
        power: state === "ON" ? 10 : 0,
        current: state === "ON" ? 0.05 : 0,
        energy: 1,
      }),
    );
    this.pdus.set(id, {
      id,
      name: id.toUpperCase(),
      online,
      info: null,
      linkErrors: null,
      linkFailures: null,
      outlets,
    });
  }
}

class FakeHardware implements TextDisplay, Keypad {
  size = 4;
  lines: string[] = [];
  lit: boolean[] = [];
  modes: LedMode[] = [];
  show(lines: readonly string[]): Promise<void> {
    this.lines = [...lines];
    return Promise.resolve();
  }
  setLeds(lit: readonly boolean[], modes: readonly LedMode[]): Promise<void> {
    this.lit = [...lit];
    this.modes = [...modes];
    return Promise.resolve();
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function setup(options: Partial<PanelOptions> = {}) {
  let now = 1_000_000;
  const source = new FakeSource();
  source.addPdu("pdu1", ["ON", "OFF", "OFF"], true, [3]);
  source.addPdu("pdu2", ["ON"], false);
  const hw = new FakeHardware();
  const panel = new Panel({
    display: hw,
    keypad: hw,
    logger: silentLogger(),
    now: () => now,
    timeText: () => "12:00",
    options: {
      buttons: [
        { pdu: "pdu1", outlet: 1 },
        { pdu: "pdu1", outlet: 2 },
        { pdu: "pdu1", outlet: 3 },
        { pdu: "pdu2", outlet: 1 },
      ],
      shortPressMs: 600,
      longPressMs: 1500,
      protectedHoldMs: 5000,
      debounceMs: 30,
      screenSeconds: 5,
      locked: false,
      offlineLeds: "blink",
      brokerLabel: "127.0.0.1:1883",
      footer: "10.0.0.7",
      ...options,
    },
  });
  panel.setSource(source);
  panel.setConnected(true);
  /** Hold button `b` for `ms`, ticking every 10 ms, then wait `after` ms. */
  const press = async (b: number, ms: number, after = 50): Promise<void> => {
    panel.input(b, true);
    for (let held = 0; held < ms; held += 10) {
      now += 10;
      panel.tick();
    }
    panel.input(b, false);
    for (let i = 0; i < after; i += 10) {
      now += 10;
      panel.tick();
    }
    await panel.settled();
  };
  const advance = async (ms: number): Promise<void> => {
    now += ms;
    panel.tick();
    await panel.settled();
  };
  return { panel, source, hw, press, advance };
}

test("LEDs mirror outlet states; an offline PDU's LEDs blink slowly", async (t) => {
  const { hw, panel } = setup();
  await panel.settled();
  t.deepEqual(hw.modes, ["on", "off", "off", "slow-blink"]);
  t.deepEqual(hw.lines[0], "PDU1           12:00");
  t.is(hw.lines[3], "! pdu2 offline      ");
});

test("a short press shows the outlet for the screen time, then the idle screen returns", async (t) => {
  const { hw, press, advance, source } = setup();
  await press(0, 200);
  t.deepEqual(hw.lines, [
    "1 Out 1           ON",
    "Power         10.0 W",
    "Current      0.050 A",
    "Energy     1.000 kWh",
  ]);
  t.is(source.sent.length, 0);
  await advance(5000);
  t.is(hw.lines[2], "Outlets on 1 of 3   ");
});

test("a long press switches OFF an outlet that is ON, blinking its LED until the result", async (t) => {
  const { hw, advance, source, panel } = setup();
  panel.input(0, true);
  await advance(40);
  await advance(960);
  t.is(hw.lines[1], "Hold to switch OFF..");
  t.is(source.sent.length, 0);
  await advance(600); // 1.6 s, still held: the long press fires without waiting for the release
  t.deepEqual(
    source.sent.map(({ pdu, outlet, request }) => ({ pdu, outlet, request })),
    [{ pdu: "pdu1", outlet: 1, request: { action: "off" } }],
  );
  t.is(hw.modes[0], "blink");
  t.is(hw.lines[1], "Switching OFF...    ");
  const outlet1 = source.pdus.get("pdu1")?.outlets.get(1);
  if (outlet1) outlet1.state = "OFF";
  source.sent[0]?.resolve({ outlet: 1, command: "off", status: "ok", state: "OFF" });
  await new Promise((r) => setImmediate(r));
  panel.input(0, false);
  await advance(40);
  t.is(hw.lines[1], "Switched OFF        ");
  t.is(hw.modes[0], "off");
});

test("the outcome of a refused command is the agent's error text", async (t) => {
  const { hw, press, source, panel } = setup();
  await press(1, 1600);
  t.deepEqual(source.sent[0]?.request, { action: "on" });
  source.sent[0]?.resolve({
    outlet: 2,
    command: "on",
    status: "error",
    error: { code: "overload", message: "total current would exceed 16 A" },
  });
  await new Promise((r) => setImmediate(r));
  await panel.settled();
  t.deepEqual(
    hw.lines.slice(1),
    ["Failed:             ", "total current would ", "exceed 16 A         "]
      .map((l) => l.padEnd(20))
      .slice(0, 3),
  );
});

test("a protected outlet ignores a 1.5 s hold and switches after the protected hold, with force", async (t) => {
  const { hw, press, source } = setup();
  await press(2, 2000);
  t.is(source.sent.length, 0);
  t.is(hw.lines[0], "3 Out 3          OFF");
  await press(2, 5100);
  t.deepEqual(source.sent[0]?.request, { action: "on", force: true });
});

test("a locked panel shows outlets but never switches them", async (t) => {
  const { hw, press, source } = setup({ locked: true });
  await press(0, 2000);
  t.is(source.sent.length, 0);
  t.deepEqual(hw.lines.slice(1, 3), ["Failed:             ", "The panel is locked."]);
});

test("a long press on an offline PDU's button gives its agent 3 s to answer; no answer: it says the PDU is offline", async (t) => {
  const { hw, press, source, panel } = setup();
  await press(3, 2000);
  t.is(source.sent.length, 1);
  t.is(source.sent[0]?.timeoutMs, 3000);
  source.sent[0]?.reject(new Error("no result in time"));
  await panel.settled();
  t.deepEqual(hw.lines.slice(1, 3), ["Failed:             ", "PDU pdu2 is offline."]);
});

test("a long press on a PDU whose offline was forged is carried out when its agent answers", async (t) => {
  const { hw, press, source, panel } = setup();
  await press(3, 2000);
  source.sent[0]?.resolve({ outlet: 1, command: "off", status: "ok", state: "OFF" });
  await panel.settled();
  t.regex(hw.lines.join("\n"), /OFF/);
});

test("a long press on a PDU the panel has never seen sends nothing and says why", async (t) => {
  const { hw, press, source, panel } = setup({ buttons: [{ pdu: "pdu9", outlet: 1 }] });
  await press(0, 2000);
  await panel.settled();
  t.is(source.sent.length, 0);
  t.deepEqual(hw.lines.slice(1, 3), ["Failed:             ", "PDU pdu9 is offline."]);
});

test("a lost broker darkens every LED and the LCD says the panel is reconnecting; it recovers", async (t) => {
  const { hw, panel } = setup();
  panel.setConnected(false);
  await panel.settled();
  t.deepEqual(hw.modes, ["off", "off", "off", "off"]);
  t.deepEqual(hw.lines.slice(0, 3), ["! No MQTT broker    ", "Reconnecting to     ", "127.0.0.1:1883...   "]);
  panel.setConnected(true);
  await panel.settled();
  t.deepEqual(hw.modes, ["on", "off", "off", "slow-blink"]);
});

test("the idle screen of an offline PDU says so", async (t) => {
  const { hw, press } = setup();
  await press(3, 100, 6000);
  t.deepEqual(hw.lines.slice(0, 2), ["! PDU pdu2 offline  ", "PDU2 does not       "]);
});

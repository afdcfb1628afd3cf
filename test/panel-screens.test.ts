import test from "ava";
import {
  errorScreen,
  holdScreen,
  idleScreen,
  lcdText,
  outletScreen,
  pendingScreen,
  resultScreen,
  spread,
  type Screen,
} from "../panel-agent/screens.ts";

function assertShape(t: import("ava").ExecutionContext, s: Screen): void {
  t.is(s.length, 4);
  for (const l of s) {
    t.is(l.length, 20, JSON.stringify(l));
    t.regex(l, /^[\x20-\x7e]{20}$/);
  }
}

test("idle screen: PDU name and time, totals, outlets on, address", (t) => {
  const s = idleScreen({
    pduName: "Rack A",
    power: 123.45,
    current: 0.5368,
    outletsOn: 5,
    outletCount: 16,
    time: "09:41",
    footer: "10.0.0.7",
  });
  t.deepEqual(s, [
    "Rack A         09:41",
    "123.5 W      0.537 A",
    "Outlets on 5 of 16  ",
    "10.0.0.7            ",
  ]);
});

test("idle screen: a long PDU name is cut so the time always shows", (t) => {
  const s = idleScreen({
    pduName: "A very long PDU name indeed",
    power: 2345.6,
    current: 10.2,
    outletsOn: 16,
    outletCount: 16,
    time: "23:59",
    footer: "",
  });
  assertShape(t, s);
  t.deepEqual(s.slice(0, 2), ["A very long PD 23:59", "2346 W       10.20 A"]);
});

test("outlet screen: number, name, state, power, current, energy", (t) => {
  t.deepEqual(
    outletScreen({ number: 3, name: "NAS", state: "ON", power: 41.2, current: 0.179, energy: 12.3456 }),
    ["3 NAS             ON", "Power         41.2 W", "Current      0.179 A", "Energy    12.346 kWh"],
  );
});

test("outlet screen: unknown readings show dashes; a notice replaces the energy line", (t) => {
  t.deepEqual(
    outletScreen({
      number: 12,
      name: "Switch",
      state: null,
      power: null,
      current: null,
      energy: null,
      notice: "PDU pdu2 offline",
    }),
    ["12 Switch          ?", "Power           -- W", "Current         -- A", "PDU pdu2 offline    "],
  );
});

test("hold screen says what the hold will do and shows progress", (t) => {
  t.deepEqual(holdScreen({ number: 3, name: "NAS", target: "OFF", progress: 0.5, protectedOutlet: false }), [
    "3 NAS               ",
    "Hold to switch OFF..",
    "[#########.........]",
    "Release to cancel   ",
  ]);
  t.deepEqual(
    holdScreen({ number: 1, name: "Router", target: "ON", progress: 2, protectedOutlet: true })[2],
    "[##################]",
  );
  t.is(
    holdScreen({ number: 1, name: "Router", target: "OFF", progress: 0, protectedOutlet: true })[3],
    "Protected: hold on  ",
  );
});

test("result screens: the outcome from the agent's result, errors wrapped", (t) => {
  t.deepEqual(resultScreen(3, "NAS", { ok: true, state: "OFF" }), [
    "3 NAS               ",
    "Switched OFF        ",
    "                    ",
    "                    ",
  ]);
  t.deepEqual(
    resultScreen(1, "Router", { ok: false, message: 'outlet 1 is protected: OFF needs "force": true' }),
    ["1 Router            ", "Failed:             ", "outlet 1 is         ", "protected: OFF ne..."],
  );
  t.deepEqual(pendingScreen(3, "NAS", "ON")[1], "Switching ON...     ");
});

test("error screen: title and a wrapped explanation, too long text ends with ...", (t) => {
  const s = errorScreen("No MQTT broker", "Reconnecting to 127.0.0.1:1883...");
  t.deepEqual(s, [
    "! No MQTT broker    ",
    "Reconnecting to     ",
    "127.0.0.1:1883...   ",
    "                    ",
  ]);
  const long = errorScreen("x", "word ".repeat(40));
  assertShape(t, long);
  t.true(long[3].trimEnd().endsWith("..."));
});

test("text the LCD cannot show is transliterated, never passed through", (t) => {
  t.is(lcdText("Büro – Drucker…"), "Buro - Drucker...");
  t.is(lcdText("温度"), "??");
  assertShape(
    t,
    outletScreen({ number: 2, name: "Kühlschrank ✓", state: "OFF", power: 0, current: 0, energy: 0 }),
  );
  t.is(spread("left", "right").length, 20);
});

test("every screen is exactly 4 × 20 whatever the input", (t) => {
  const big = "X".repeat(100);
  for (const s of [
    idleScreen({
      pduName: big,
      power: 1e9,
      current: 1e6,
      outletsOn: 999,
      outletCount: 999,
      time: big,
      footer: big,
    }),
    outletScreen({ number: 16, name: big, state: "ON", power: -5, current: 1e6, energy: 1e9 }),
    holdScreen({ number: 16, name: big, target: "TOGGLE", progress: -1, protectedOutlet: false }),
    resultScreen(16, big, { ok: false, message: big }),
    errorScreen(big, big),
    errorScreen("", ""),
  ])
    assertShape(t, s);
});

import test from "ava";
import { PowerBudget } from "../../pdu-agent/power-budget.ts";
import { LoadChecker, type OutletFault } from "../../pdu-agent/load-checker.ts";
import { OutletStateStore } from "../../pdu-agent/outlet-state.ts";

const budget = (extra: Partial<ConstructorParameters<typeof PowerBudget>[0]> = {}) =>
  new PowerBudget({ maxCurrent: 16, overloadHoldMs: 5000, shed: false, outlets: [{}, {}, {}, {}], ...extra });

test("an outlet's expected draw is learned by the state store from its readings while on", (t) => {
  const s = new OutletStateStore(4);
  s.polled(s.beginRead(), [true, false, false, false], [2, 0, 0, 0], 0);
  s.polled(s.beginRead(), [true, false, false, false], [5.5, 0, 0, 0], 1);
  s.polled(s.beginRead(), [false, false, false, false], [0, 0, 0, 0], 2);
  t.is(s.expected(1), 5.5);
  t.is(s.expected(2), 0, "never seen on: nothing learned");
});

test("an outlet switched on since the last reading counts its learned draw, not the 0 A read while it was off", (t) => {
  const s = new OutletStateStore(2);
  s.polled(s.beginRead(), [true, false], [1.5, 0], 0);
  s.polled(s.beginRead(), [false, false], [0, 0], 1);
  const token = s.beginRead(); // a poll starts reading …
  s.switched([true, false], 2); // … a command switches outlet 1 on meanwhile …
  t.deepEqual(s.committedCurrents(), [1.5, 0]);
  s.polled(token, [false, false], [0, 0], 3); // … and the stale read does not undo it
  t.true(s.isOn(1));
  t.deepEqual(s.committedCurrents(), [1.5, 0]);
  s.polled(s.beginRead(), [true, false], [1.2, 0], 4);
  t.deepEqual(s.committedCurrents(), [1.2, 0], "measured now: the reading counts");
});

test("switching on beyond the PDU budget is refused with overload and the figures", (t) => {
  const b = budget();
  const currents = [0, 7, 8, 0];
  const states = [false, true, true, false];
  const refusal = b.refuseOn(1, 6, currents, states);
  t.is(refusal?.code, "overload");
  t.is(
    refusal?.message,
    "switching outlet 1 on would draw about 15.00 A + 6.00 A = 21.00 A, over the 16 A budget",
  );
  t.is(b.refuseOn(4, 0, currents, states), null, "an outlet expected to draw nothing fits");
  t.is(b.refuseOn(2, 6, currents, states), null, "an outlet already on is not re-checked");
});

test("an outlet expected to exceed its own limit is refused", (t) => {
  const b = budget({ outlets: [{ maxCurrent: 2 }, {}, {}, {}] });
  t.regex(b.refuseOn(1, 3, [0, 0, 0, 0], [false, false, false, false])?.message ?? "", /over its 2 A limit/);
});

test("an overload raises the alarm only after the hold time, and clears when it ends", (t) => {
  const b = budget();
  const states = [true, true, true, true];
  t.deepEqual(b.check(0, [5, 5, 5, 2], states), { changed: null, shed: [] });
  t.deepEqual(b.check(4000, [5, 5, 5, 2], states), { changed: null, shed: [] });
  const raised = b.check(5000, [5, 5, 5, 2], states);
  t.like(raised.changed, { active: true, current: 17, limit: 16, since: 0 });
  t.is(b.check(6000, [5, 5, 5, 2], states).changed, null, "raised once");
  t.like(b.check(7000, [5, 5, 4, 1], states).changed, { active: false });
});

test("a brief overload (inrush) never raises the alarm", (t) => {
  const b = budget();
  const states = [true, true, true, true];
  b.check(0, [9, 9, 0, 0], states);
  t.is(b.check(1000, [5, 5, 0, 0], states).changed, null);
  t.is(b.check(7000, [9, 9, 0, 0], states).changed, null, "the hold time starts again");
});

test("shedding switches off unprotected outlets, lowest priority first, until under budget", (t) => {
  const b = budget({
    shed: true,
    overloadHoldMs: 0,
    outlets: [{ protected: true, priority: 0 }, { priority: 9 }, { priority: 1 }, { priority: 1 }],
  });
  const { shed } = b.check(0, [6, 6, 3, 4], [true, true, true, true]);
  t.deepEqual(shed, [4], "outlet 4 (priority 1, higher number first) brings 19 A down to 15 A");
  t.deepEqual(
    b.check(1, [6, 6, 6, 6], [true, true, true, true]).shed,
    [4, 3],
    "then outlet 3; the protected outlet 1 never",
  );
});

/** Run the checker the way the safety feature does: faults kept by the caller, changes applied. */
function checker(thresholds = [0.05, 0.05]) {
  const c = new LoadChecker(thresholds.length, 5000, thresholds);
  const faults: OutletFault[] = thresholds.map(() => "none");
  const check = (now: number, currents: number[], states: boolean[]) => {
    const changes = c.check(now, currents, states, faults);
    for (const [n, f] of changes) faults[n - 1] = f;
    return changes;
  };
  return { c, faults, check };
}

test("load checks: no current after switching on is a dead load; current while off is a welded relay", (t) => {
  const { c, faults, check } = checker();
  c.switched(1, 0);
  t.deepEqual(check(1000, [0, 0], [true, false]), []);
  t.deepEqual(check(5000, [0, 0], [true, false]), [[1, "dead_load"]]);
  t.deepEqual(check(5500, [0, 0], [true, false]), [], "reported once, not every poll");
  t.deepEqual(check(6000, [0.8, 0], [true, false]), [[1, "none"]], "a load that appears clears it");
  t.deepEqual(check(7000, [0.8, 0.3], [true, false]), [[2, "welded_relay"]]);
  t.is(faults[1], "welded_relay");
  t.deepEqual(check(8000, [0.8, 0], [true, false]), [[2, "none"]], "cleared when the current stops");
});

test("a dead load is cleared when the outlet is switched off", (t) => {
  const { c, check } = checker();
  c.switched(1, 0);
  t.deepEqual(check(5000, [0, 0], [true, false]), [[1, "dead_load"]]);
  t.deepEqual(check(6000, [0, 0], [false, false]), [[1, "none"]]);
});

test("the threshold is per outlet: a 5 W load (0.022 A at 230 V) is a load under the default, not a dead one", (t) => {
  const { c, check } = checker([0.01, 0.05]);
  c.switched(1, 0);
  c.switched(2, 0);
  t.deepEqual(check(5000, [5 / 230, 5 / 230], [true, true]), [[2, "dead_load"]], "only where 0.05 A was set");
});

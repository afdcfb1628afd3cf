import test from "ava";
import { PowerBudget } from "../../pdu-agent/power-budget.ts";
import { LoadChecker } from "../../pdu-agent/load-checker.ts";

const budget = (extra: Partial<ConstructorParameters<typeof PowerBudget>[0]> = {}) =>
  new PowerBudget({ maxCurrent: 16, overloadHoldMs: 5000, shed: false, outlets: [{}, {}, {}, {}], ...extra });

test("an outlet's expected draw is learned from its recent readings while on", (t) => {
  const b = budget();
  b.observe([2, 0, 0, 0], [true, false, false, false]);
  b.observe([5.5, 0, 0, 0], [true, false, false, false]);
  b.observe([0, 0, 0, 0], [false, false, false, false]);
  t.is(b.expected(1), 5.5);
  t.is(b.expected(2), 0, "never seen on: nothing learned");
});

test("switching on beyond the PDU budget is refused with overload and the figures", (t) => {
  const b = budget();
  b.observe([6, 0, 0, 0], [true, false, false, false]);
  const currents = [0, 7, 8, 0];
  const states = [false, true, true, false];
  const refusal = b.refuseOn(1, currents, states);
  t.is(refusal?.code, "overload");
  t.is(
    refusal?.message,
    "switching outlet 1 on would draw about 15.00 A + 6.00 A = 21.00 A, over the 16 A budget",
  );
  t.is(b.refuseOn(4, currents, states), null, "an outlet expected to draw nothing fits");
  t.is(b.refuseOn(2, currents, states), null, "an outlet already on is not re-checked");
});

test("an outlet expected to exceed its own limit is refused", (t) => {
  const b = budget({ outlets: [{ maxCurrent: 2 }, {}, {}, {}] });
  b.observe([3, 0, 0, 0], [true, false, false, false]);
  t.regex(b.refuseOn(1, [0, 0, 0, 0], [false, false, false, false])?.message ?? "", /over its 2 A limit/);
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

test("load checks: no current after switching on is a dead load; current while off is a welded relay", (t) => {
  const c = new LoadChecker(2, 5000, 0.05);
  c.switched(1, 0);
  t.deepEqual(c.check(1000, [0, 0], [true, false]), []);
  t.deepEqual(c.check(5000, [0, 0], [true, false]), [[1, "dead_load"]]);
  t.deepEqual(c.check(6000, [0.8, 0], [true, false]), [[1, "none"]], "a load that appears clears it");
  t.deepEqual(c.check(7000, [0.8, 0.3], [true, false]), [[2, "welded_relay"]]);
  t.is(c.fault(2), "welded_relay");
});

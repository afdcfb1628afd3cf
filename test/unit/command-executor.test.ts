import test from "ava";
import type { Command } from "../../protocol/commands.ts";
import { CommandExecutor } from "../../pdu-agent/command-executor.ts";
import { CommandQueue } from "../../pdu-agent/command-queue.ts";
import { HardwareError, type OutletController } from "../../pdu-agent/hardware/outlet-controller.ts";
import { OutletStateStore } from "../../pdu-agent/outlet-state.ts";
import { PowerBudget } from "../../pdu-agent/power-budget.ts";

/** A fake controller that records every relay operation in order. */
class RecordingController implements OutletController {
  readonly outletCount = 4;
  readonly log: string[] = [];
  relays = [false, false, false, false];
  failNext = false;
  describe() {
    return Promise.resolve({
      kind: "simulator" as const,
      firmwareVersion: "1.0.0",
      protocolVersion: 1,
      outletCount: 4,
      resetCause: "external",
    });
  }
  readRelays() {
    return Promise.resolve([...this.relays]);
  }
  async setRelay(outlet: number, on: boolean) {
    await Promise.resolve();
    if (this.failNext) {
      this.failNext = false;
      throw new HardwareError("unverified", `outlet ${outlet} did not switch`);
    }
    this.log.push(`${outlet}:${on ? "on" : "off"}`);
    this.relays[outlet - 1] = on;
    return [...this.relays];
  }
  readCurrents() {
    return Promise.resolve([0, 0, 0, 0]);
  }
  counters() {
    return { transactions: 0, crcErrors: 0, nacks: 0, ioErrors: 0, shortReads: 0, retries: 0, failures: 0 };
  }
  close() {
    return Promise.resolve();
  }
}

/** A sleep that only ends when the test says so, and records the waits asked for. */
function manualSleep() {
  const waits: { ms: number; release: () => void }[] = [];
  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      waits.push({ ms, release: resolve });
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  return { sleep, waits };
}

function setup(protectedOutlets: number[] = [], options: { maxCurrent?: number; maxPending?: number } = {}) {
  const controller = new RecordingController();
  const { sleep, waits } = manualSleep();
  const store = new OutletStateStore(4);
  const published: boolean[][] = [];
  store.subscribe((change) => {
    if (change.kind === "switched") published.push([...store.states()]);
  });
  const budget = new PowerBudget({
    maxCurrent: options.maxCurrent ?? 16,
    overloadHoldMs: 5000,
    shed: false,
    outlets: [{}, {}, {}, {}],
  });
  const executor = new CommandExecutor({
    controller,
    queue: new CommandQueue(),
    store,
    sleep,
    isProtected: (n) => protectedOutlets.includes(n),
    refuseOn: (n) => budget.refuseOn(n, store.expected(n), store.committedCurrents(), store.states()),
    ...(options.maxPending !== undefined ? { maxPending: options.maxPending } : {}),
  });
  return { controller, executor, waits, published, store };
}

/** The store learns that each of these outlets draws `amps` (one poll with them on), then they are off again. */
function learn(store: OutletStateStore, amps: number, outlets: number[]) {
  const on = [1, 2, 3, 4].map((n) => outlets.includes(n));
  store.polled(
    store.beginRead(),
    on,
    on.map((o) => (o ? amps : 0)),
    0,
  );
  store.polled(store.beginRead(), [false, false, false, false], [0, 0, 0, 0], 1);
}

const cmd = (outlet: number, action: Command["action"], extra: Partial<Command> = {}): Command => ({
  outlet,
  action,
  ...extra,
});

test("commands apply in arrival order and each ends in one result", async (t) => {
  const { controller, executor } = setup();
  const results = await Promise.all([
    executor.execute(cmd(1, "on")),
    executor.execute(cmd(2, "on")),
    executor.execute(cmd(1, "off")),
    executor.execute(cmd(3, "toggle")),
  ]);
  t.deepEqual(controller.log, ["1:on", "2:on", "1:off", "3:on"]);
  t.deepEqual(
    results.map((r) => `${r.outlet}:${r.command ?? ""}:${r.status}`),
    ["1:on:ok", "2:on:ok", "1:off:ok", "3:toggle:ok"],
  );
  t.deepEqual(
    results.map((r) => r.state),
    ["ON", "ON", "OFF", "ON"],
  );
});

test("nothing interleaves between a cycle's off and its on", async (t) => {
  const { controller, executor, waits } = setup();
  const cycle = executor.execute(cmd(2, "cycle", { delay: 5, transaction: "c1" }));
  const other = executor.execute(cmd(2, "on", { transaction: "o1" }));
  const third = executor.execute(cmd(3, "on"));
  while (waits.length === 0) await new Promise((r) => setImmediate(r));
  t.is(waits[0]?.ms, 5000);
  t.deepEqual(controller.log, ["2:off"], "only the cycle's off has run while it waits");
  waits[0]?.release();
  const results = await Promise.all([cycle, other, third]);
  t.deepEqual(controller.log, ["2:off", "2:on", "2:on", "3:on"]);
  t.deepEqual(
    results.map((r) => r.transaction),
    ["c1", "o1", undefined],
  );
});

test("a cycle of an outlet that is on publishes OFF then ON", async (t) => {
  const { executor, waits, published, controller, store } = setup();
  controller.relays[0] = true;
  store.init(controller.relays);
  const done = executor.execute(cmd(1, "cycle", { delay: 1 }));
  while (waits.length === 0) await new Promise((r) => setImmediate(r));
  waits[0]?.release();
  await done;
  t.deepEqual(
    published.map((s) => s[0]),
    [false, true],
  );
});

test("protected outlets refuse OFF, CYCLE and TOGGLE-to-off without force, and switch nothing", async (t) => {
  const { controller, executor, store } = setup([1]);
  controller.relays[0] = true;
  store.init(controller.relays);
  for (const action of ["off", "cycle", "toggle"] as const) {
    const result = await executor.execute(cmd(1, action));
    t.is(result.error?.code, "protected_outlet", action);
  }
  t.deepEqual(controller.log, []);
  t.is((await executor.execute(cmd(1, "off", { force: true }))).status, "ok");
  t.is((await executor.execute(cmd(1, "on"))).status, "ok");
});

test("a relay change that cannot be verified ends in an error result with the state re-read", async (t) => {
  const { controller, executor, store } = setup();
  controller.failNext = true;
  const result = await executor.execute(cmd(4, "on", { transaction: "t" }));
  t.is(result.status, "error");
  t.is(result.error?.code, "hardware_error");
  t.is(result.state, "OFF");
  t.is(result.transaction, "t");
  t.deepEqual(store.states(), [false, false, false, false]);
});

test("a delayed ON waits outside the queue, so other commands are not held up", async (t) => {
  const { controller, executor, waits } = setup();
  const delayed = executor.execute(cmd(1, "on", { delay: 60 }));
  while (waits.length === 0) await new Promise((r) => setImmediate(r));
  t.is(executor.pendingActions().length, 1);
  await executor.execute(cmd(2, "on"));
  t.deepEqual(controller.log, ["2:on"]);
  waits[0]?.release();
  t.is((await delayed).state, "ON");
  t.deepEqual(controller.log, ["2:on", "1:on"]);
  t.deepEqual(executor.pendingActions(), []);
});

test("stopping cancels delayed commands without switching, and finishes a running cycle at once", async (t) => {
  const { controller, executor, waits } = setup();
  const delayed = executor.execute(cmd(1, "on", { delay: 600 }));
  const cycle = executor.execute(cmd(2, "cycle", { delay: 600 }));
  while (waits.length < 2) await new Promise((r) => setImmediate(r));
  await executor.stop();
  t.is((await delayed).error?.code, "shutting_down");
  t.is((await cycle).state, "ON");
  t.deepEqual(controller.log, ["2:off", "2:on"]);
  t.is((await executor.execute(cmd(3, "on"))).error?.code, "shutting_down");
});

test("a cycle's wait is a pending action: cancelling it leaves the outlet off and says so", async (t) => {
  const { controller, executor, waits } = setup();
  const cycle = executor.execute(cmd(3, "cycle", { delay: 30, transaction: "c" }));
  while (waits.length === 0) await new Promise((r) => setImmediate(r));
  const [pending] = executor.pendingActions();
  t.like(pending, { outlet: 3, action: "cycle" });
  t.deepEqual(executor.cancel({ outlet: 3 }), { cancelled: [pending?.id ?? -1], kept: [] });
  t.like(await cycle, { status: "error", state: "OFF", transaction: "c", error: { code: "cancelled" } });
  t.deepEqual(controller.log, ["3:off"]);
  t.deepEqual(executor.pendingActions(), []);
});

test("back-to-back ONs cannot both pass against the same headroom: the second is refused before any poll", async (t) => {
  const { controller, executor, store } = setup([], { maxCurrent: 2.5 });
  learn(store, 1, [1, 2, 3]);
  const results = await Promise.all([
    executor.execute(cmd(1, "on")),
    executor.execute(cmd(2, "on")),
    executor.execute(cmd(3, "on")),
  ]);
  t.deepEqual(
    results.map((r) => r.status),
    ["ok", "ok", "error"],
  );
  t.is(results[2].error?.code, "overload");
  t.regex(results[2].error?.message ?? "", /2\.00 A \+ 1\.00 A = 3\.00 A, over the 2\.5 A budget/);
  t.deepEqual(controller.log, ["1:on", "2:on"], "outlet 3 was never switched");
});

test("ALL_ON whose stagger is shorter than the poll cannot overrun the budget; it answers ok with the outlet it skipped", async (t) => {
  const { controller, executor, store, waits } = setup([], { maxCurrent: 2.5 });
  learn(store, 1, [1, 2, 3, 4]);
  const done = executor.allOn([0.1, 0.1, 0.1, 0.1], { transaction: "a" });
  // No poll runs here at all: only the store's own bookkeeping of each switch stands between the steps.
  while (waits.length < 3) await new Promise((r) => setImmediate(r));
  for (const w of waits) w.release();
  const result = await done;
  t.like(result, {
    command: "all_on",
    status: "ok",
    transaction: "a",
    outlets: { "1": "ON", "2": "ON", "3": "OFF", "4": "OFF" },
    skipped: { "3": { code: "overload" }, "4": { code: "overload" } },
  });
  t.deepEqual(controller.log, ["1:on", "2:on"]);
});

test("ALL_OFF leaves a protected outlet on and answers ok, naming it among the skipped", async (t) => {
  const { controller, executor, store } = setup([2]);
  controller.relays = [true, true, true, false];
  store.init(controller.relays);
  const result = await executor.allOff({});
  t.like(result, {
    command: "all_off",
    status: "ok",
    outlets: { "1": "OFF", "2": "ON", "3": "OFF", "4": "OFF" },
    skipped: { "2": { code: "protected_outlet" } },
  });
  t.is(result.errors, undefined);
  t.deepEqual(controller.log.sort(), ["1:off", "3:off"]);
});

test("cancelling the on still to come of a protected outlet's forced cycle needs force", async (t) => {
  const { controller, executor, waits } = setup([2]);
  controller.relays[1] = true;
  const cycle = executor.execute(cmd(2, "cycle", { delay: 30, force: true }));
  while (waits.length === 0) await new Promise((r) => setImmediate(r));
  const id = executor.pendingActions()[0]?.id ?? -1;
  t.deepEqual(executor.cancel({ id }), { cancelled: [], kept: [id] }, "kept without force");
  t.deepEqual(executor.cancel({}), { cancelled: [], kept: [id] }, "a cancel-all keeps it too");
  t.deepEqual(executor.cancel({ id }, true), { cancelled: [id], kept: [] });
  t.like(await cycle, { status: "error", error: { code: "cancelled" } });
});

test("past the pending cap a delayed command is refused with an error result and nothing waits", async (t) => {
  const { executor, waits } = setup([], { maxPending: 2 });
  const first = executor.execute(cmd(1, "on", { delay: 60 }));
  const second = executor.execute(cmd(2, "on", { delay: 60 }));
  while (waits.length < 2) await new Promise((r) => setImmediate(r));
  const third = await executor.execute(cmd(3, "on", { delay: 60, transaction: "x" }));
  t.like(third, { status: "error", transaction: "x", error: { code: "too_many_pending" } });
  t.is(waits.length, 2);
  executor.cancel({});
  await Promise.all([first, second]);
});

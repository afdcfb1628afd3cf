import test from "ava";
import { GestureDetector, type GestureEvent } from "../panel-agent/gestures.ts";

const timing = { debounceMs: 30, shortPressMs: 600, longMs: (b: number) => (b === 7 ? 5000 : 1500) };

/** Feeds a script of [time, pressed] samples to button `b`, ticking every 10 ms in between; returns the events. */
function run(script: [number, boolean][], b = 0, until = script.at(-1)?.[0] ?? 0): GestureEvent[] {
  const d = new GestureDetector(timing);
  const events: GestureEvent[] = [];
  let i = 0;
  for (let now = 0; now <= until; now += 10) {
    while (i < script.length && (script[i]?.[0] ?? Infinity) <= now) {
      const [at, pressed] = script[i++] ?? [0, false];
      events.push(...d.input(b, pressed, at));
    }
    events.push(...d.tick(now));
  }
  return events;
}

const types = (events: GestureEvent[]): string[] =>
  events.map((e) => e.type).filter((t, i, all) => t !== "holding" || all[i - 1] !== "holding");

test("a 200 ms press is a short press, reported after the release settles", (t) => {
  t.deepEqual(
    types(
      run(
        [
          [100, true],
          [300, false],
        ],
        0,
        1000,
      ),
    ),
    ["down", "short"],
  );
});

test("a 599 ms press is still short; the debounce delay does not lengthen it", (t) => {
  t.deepEqual(
    types(
      run(
        [
          [0, true],
          [599, false],
        ],
        0,
        2000,
      ),
    ),
    ["down", "short"],
  );
});

test("holding past 600 ms reports progress, and releasing before 1.5 s cancels", (t) => {
  const events = run(
    [
      [0, true],
      [1000, false],
    ],
    0,
    2000,
  );
  t.deepEqual(types(events), ["down", "holding", "cancelled"]);
  const holding = events.filter((e): e is Extract<GestureEvent, { type: "holding" }> => e.type === "holding");
  t.is(holding[0]?.heldMs, 600);
  t.true(holding.every((h, i) => i === 0 || h.progress >= (holding[i - 1]?.progress ?? 0)));
  t.true((holding.at(-1)?.progress ?? 1) < 1);
});

test("a hold of 1.5 s fires the long press while still held, exactly once, and the release is quiet", (t) => {
  const events = run(
    [
      [0, true],
      [4000, false],
    ],
    0,
    5000,
  );
  t.deepEqual(types(events), ["down", "holding", "long"]);
  t.is(events.filter((e) => e.type === "long").length, 1);
});

test("the long press fires at the threshold, not at the release", (t) => {
  const d = new GestureDetector(timing);
  d.input(0, true, 0);
  d.tick(40);
  t.false(d.tick(1499).some((e) => e.type === "long"));
  t.deepEqual(d.tick(1500), [{ type: "long", button: 0 }]);
});

test("a release exactly at 1.5 s between two ticks still counts as a long press", (t) => {
  const d = new GestureDetector(timing);
  d.input(0, true, 0);
  d.tick(40);
  d.tick(1490);
  t.deepEqual(d.input(0, false, 1500).concat(d.tick(1540)), [{ type: "long", button: 0 }]);
});

test("contact bounce shorter than the debounce time is ignored", (t) => {
  const script: [number, boolean][] = [
    [100, true],
    [105, false],
    [110, true],
    [112, false],
    [118, true],
  ];
  const events = run([...script, [400, false], [402, true], [404, false]], 0, 1000);
  t.deepEqual(types(events), ["down", "short"]);
});

test("a 20 ms blip (noise) is not a press", (t) => {
  t.deepEqual(
    run(
      [
        [100, true],
        [120, false],
      ],
      0,
      1000,
    ),
    [],
  );
});

test("a protected button needs its own, longer hold", (t) => {
  t.deepEqual(
    types(
      run(
        [
          [0, true],
          [3000, false],
        ],
        7,
        4000,
      ),
    ),
    ["down", "holding", "cancelled"],
  );
  t.deepEqual(
    types(
      run(
        [
          [0, true],
          [5200, false],
        ],
        7,
        6000,
      ),
    ),
    ["down", "holding", "long"],
  );
});

test("buttons are independent: a hold on one and a tap on another", (t) => {
  const d = new GestureDetector(timing);
  const events: GestureEvent[] = [];
  events.push(...d.input(1, true, 0));
  for (let now = 0; now <= 2000; now += 10) {
    if (now === 500) events.push(...d.input(2, true, now));
    if (now === 700) events.push(...d.input(2, false, now));
    events.push(...d.tick(now));
  }
  t.deepEqual(
    events.filter((e) => e.type !== "holding"),
    [
      { type: "down", button: 1 },
      { type: "down", button: 2 },
      { type: "short", button: 2 },
      { type: "long", button: 1 },
    ],
  );
  t.deepEqual(d.held(), [1]);
});

import test from "ava";
import { parseCommand, type ParseResult } from "../../protocol/commands.ts";

const limits = { outletCount: 16, maxDelay: 3600, defaultCycleDelay: 5 };
const parse = (payload: string | Uint8Array, outlet = "3"): ParseResult =>
  parseCommand(outlet, typeof payload === "string" ? new TextEncoder().encode(payload) : payload, limits);

function errorCode(result: ParseResult): string {
  return result.ok ? "ok" : result.error.code;
}

test("plain words are commands in any case", (t) => {
  for (const [word, action] of [
    ["ON", "on"],
    ["off", "off"],
    ["Toggle", "toggle"],
    [" cycle\n", "cycle"],
  ] as const) {
    const result = parse(word);
    t.true(result.ok, word);
    if (result.ok) t.is(result.command.action, action);
  }
});

test("CYCLE without a delay uses the default cycle delay", (t) => {
  t.deepEqual(parse("CYCLE"), { ok: true, command: { outlet: 3, action: "cycle", delay: 5 } });
});

test("JSON state and action forms are accepted with transaction, delay and force", (t) => {
  t.deepEqual(parse('{"state":"ON"}'), { ok: true, command: { outlet: 3, action: "on" } });
  t.deepEqual(parse('{"action":"cycle","delay":2.5,"transaction":"abc","force":true}'), {
    ok: true,
    command: { outlet: 3, action: "cycle", delay: 2.5, transaction: "abc", force: true },
  });
  t.deepEqual(parse('{"state":"off","transaction":42}'), {
    ok: true,
    command: { outlet: 3, action: "off", transaction: 42 },
  });
});

test("outlet numbers may carry leading zeros, as printed on labels", (t) => {
  const result = parse("ON", "08");
  t.true(result.ok && result.command.outlet === 8);
});

test("an unknown word is invalid_payload and the message lists what is allowed", (t) => {
  const result = parse("BLAH");
  t.is(errorCode(result), "invalid_payload");
  t.regex(result.ok ? "" : result.error.message, /ON, OFF, TOGGLE, CYCLE/);
});

test("broken JSON, arrays and scalars are invalid_payload", (t) => {
  t.is(errorCode(parse('{"state":')), "invalid_payload");
  t.is(errorCode(parse("[1,2]")), "invalid_payload");
  t.is(errorCode(parse('"ON"')), "invalid_payload");
  t.is(errorCode(parse("")), "invalid_payload");
});

test("an unknown JSON field is refused by name", (t) => {
  const result = parse('{"state":"ON","dealy":5}');
  t.is(errorCode(result), "unknown_field");
  t.regex(result.ok ? "" : result.error.message, /"dealy"/);
});

test("an unknown value of a known field is invalid_value and names the field", (t) => {
  const result = parse('{"state":"MAYBE","transaction":"t9"}');
  t.deepEqual(result, {
    ok: false,
    outlet: 3,
    transaction: "t9",
    error: { code: "invalid_value", message: '"state" is "MAYBE"; allowed: ON, OFF, TOGGLE' },
  });
  t.is(errorCode(parse('{"state":"CYCLE"}')), "invalid_value");
  t.is(errorCode(parse('{"action":5}')), "invalid_value");
  t.is(errorCode(parse('{"state":"ON","force":"yes"}')), "invalid_value");
});

test("both state and action, or neither, is refused", (t) => {
  t.is(errorCode(parse('{"state":"ON","action":"on"}')), "invalid_payload");
  t.is(errorCode(parse('{"transaction":"x"}')), "invalid_payload");
});

test("negative, absurd and non-numeric delays are invalid_delay", (t) => {
  for (const delay of ["-1", "3601", '"5"', "null", "1e400"]) {
    t.is(errorCode(parse(`{"action":"cycle","delay":${delay}}`)), "invalid_delay", delay);
  }
  t.true(parse('{"action":"cycle","delay":3600}').ok);
  t.true(parse('{"action":"cycle","delay":0}').ok);
});

test("outlets out of range or not numbers are invalid_outlet, echoing the transaction", (t) => {
  for (const outlet of ["0", "17", "-1", "abc", "1.5", "+", "3 ", "0003"]) {
    const result = parse('{"state":"ON","transaction":"x"}', outlet);
    t.is(errorCode(result), "invalid_outlet", outlet);
    t.is(result.ok ? undefined : result.transaction, "x");
  }
});

test("a payload over 1 kB is refused before it is parsed", (t) => {
  t.is(errorCode(parse(`{"state":"ON","transaction":"${"x".repeat(1100)}"}`)), "payload_too_large");
  t.true(parse(`{"state":"ON","transaction":"${"x".repeat(100)}"}`).ok);
});

test("invalid UTF-8 is refused", (t) => {
  t.is(errorCode(parse(Uint8Array.of(0x4f, 0x4e, 0xff, 0xfe))), "invalid_utf8");
});

test("an over-long transaction id is refused rather than echoed", (t) => {
  t.is(errorCode(parse(`{"state":"ON","transaction":"${"x".repeat(129)}"}`)), "invalid_value");
});

test("error messages stay on one line whatever the payload holds", (t) => {
  const result = parse("ON\u0000\u001b[2J\nOFF");
  t.false(result.ok);
  t.notRegex(result.ok ? "" : result.error.message, /[\u0000-\u001f]/);
});

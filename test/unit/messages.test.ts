import test from "ava";
import { loadConfig } from "../../config/load.ts";
import { MESSAGE_PARSERS, parseMessage, type MessageKind } from "../../protocol/messages.ts";
import { buildInfo } from "../../pdu-agent/snapshot.ts";
import {
  OFFLINE,
  ONLINE,
  formatCurrent,
  formatEnergy,
  formatPower,
  formatState,
} from "../../protocol/payloads.ts";

const KINDS = Object.keys(MESSAGE_PARSERS) as MessageKind[];

/** What the agent publishes, one per kind: each parses back to the same value. */
const VALID: Record<MessageKind, [payload: string, value: unknown]> = {
  availability: ["online", "online"],
  info: ["", null], // filled from buildInfo below
  state: ["ON", "ON"],
  power: ["230.5", 230.5],
  current: ["1.002", 1.002],
  energy: ["12.3456", 12.3456],
  fault: ["welded_relay", "welded_relay"],
  power_on_behavior: ["last", "last"],
  result: [
    '{"outlet":3,"command":"cycle","transaction":"t-1","status":"ok","state":"ON","source":"rest 10.0.0.5"}',
    { outlet: 3, command: "cycle", transaction: "t-1", status: "ok", state: "ON", source: "rest 10.0.0.5" },
  ],
  telemetry: [
    '{"pdu":"pdu1","time":"2026-01-01T00:00:00Z","outlets":[{"outlet":1,"name":"A","state":"ON","power":1,"current":0.1,"energy":2}],"totals":{"power":1,"current":0.1,"energy":2,"outletsOn":1}}',
    {
      pdu: "pdu1",
      time: "2026-01-01T00:00:00Z",
      outlets: [{ outlet: 1, name: "A", state: "ON", power: 1, current: 0.1, energy: 2 }],
      totals: { power: 1, current: 0.1, energy: 2, outletsOn: 1 },
    },
  ],
  pending: [
    '[{"id":1,"outlet":2,"action":"on","dueAt":1700000000000},{"id":1003,"outlet":3,"action":"on","dueAt":null,"source":"cold_start"}]',
    [
      { id: 1, outlet: 2, action: "on", dueAt: 1700000000000 },
      { id: 1003, outlet: 3, action: "on", dueAt: null, source: "cold_start" },
    ],
  ],
  diagnostics: [
    '{"linkErrors":3,"linkFailures":0,"startedAt":"2026-01-01T00:00:00.000Z"}',
    { linkErrors: 3, linkFailures: 0, startedAt: "2026-01-01T00:00:00.000Z" },
  ],
  alarm: ['{"active":false}', { active: false }],
  "total/power": ["0.0", 0],
  "total/current": ["16.000", 16],
  "total/energy": ["1.0000", 1],
  "ha-status": ["offline", "offline"],
};
const { settings } = loadConfig({ argv: [], env: {} });
const info = buildInfo(settings, 16, { firmwareVersion: "1.2.0", kind: "sim" } as never);
VALID.info = [JSON.stringify(info), info];

test("every kind parses what the agent publishes back to the same value", (t) => {
  for (const kind of KINDS) {
    const [payload, value] = VALID[kind];
    t.deepEqual(parseMessage(kind, payload), { ok: true, value }, kind);
    t.deepEqual(parseMessage(kind, Buffer.from(payload)), { ok: true, value }, `${kind} as bytes`);
  }
});

const HOSTILE: (string | Buffer)[] = [
  "",
  "null",
  "[]",
  "[null]",
  "{}",
  '{"outlets":[null]}',
  '{"outlets":[]}',
  '{"__proto__":{"active":true,"status":"ok"}}',
  '{"constructor":{"prototype":{"active":true}}}',
  "1e400",
  "-1",
  "NaN",
  "Infinity",
  "9".repeat(400),
  '"ON"',
  "on",
  "ON\u0000",
  Buffer.from([0xff, 0xfe, 0x00]),
  Buffer.alloc(128 * 1024, "{"),
  '{"outlet":"3","command":"cycle","status":"ok"}',
  '{"outlet":3,"command":"format_disk","status":"ok"}',
  '{"outlet":3,"command":"on","status":"ok","outlets":{"__proto__":"ON"}}',
  '{"pdu":"evil","name":"x","outlets":[{"number":1,"name":"A","protected":false},{"number":1,"name":"B","protected":false}]}',
  '{"linkErrors":-1}',
  '{"linkErrors":1e300}',
  '[{"id":1,"outlet":99,"action":"on","dueAt":null}]',
  '{"active":"yes"}',
];

/** Payloads hostile elsewhere but valid for one kind: an empty pending list, "on" as a power-on behaviour,
 * and for diagnostics any JSON object whose counters (if any) are valid: its other fields are ignored. */
function validAnyway(kind: MessageKind, text: string): boolean {
  if (kind === "pending") return text === "[]";
  if (kind === "power_on_behavior") return text === "on";
  if (kind !== "diagnostics" || text.length > 1000) return false;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) && !text.includes("link");
  } catch {
    return false;
  }
}

test("hostile payloads on every kind are refused with a reason, never thrown", (t) => {
  for (const kind of KINDS) {
    for (const payload of HOSTILE) {
      const text = payload.toString();
      const label = `${kind} ← ${JSON.stringify(text.slice(0, 40))}`;
      let parsed: ReturnType<typeof parseMessage> | undefined;
      t.notThrows(() => (parsed = parseMessage(kind, payload)), label);
      if (validAnyway(kind, text)) t.true(parsed?.ok, label);
      else t.deepEqual(parsed?.ok === false && parsed.reason.length > 0, true, label);
    }
  }
});

test("info: every dereferenced field is checked, and the PDU id must be one", (t) => {
  const base = JSON.parse(VALID.info[0]) as Record<string, unknown>;
  const variants: [string, unknown][] = [
    ["pdu", "Not/An/Id"],
    ["name", 5],
    ["outlets", [{ number: 0, name: "x", protected: false }]],
    ["outlets", [{ number: 1, name: "x", protected: "no" }]],
    ["outlets", Array.from({ length: 65 }, (_, i) => ({ number: i + 1, name: "x", protected: false }))],
    ["firmware", null],
    ["mains", { voltage: "230", voltageSource: "configured", powerFactor: 1, frequency: 50 }],
    ["limits", { maxDelay: 3600, defaultCycleDelay: -1, maxPayloadBytes: 1024, maxCurrent: 16 }],
  ];
  for (const [key, value] of variants) {
    const parsed = parseMessage("info", JSON.stringify({ ...base, [key]: value }));
    t.false(parsed.ok, `${key} = ${JSON.stringify(value).slice(0, 40)}`);
  }
});

test("extra fields are ignored: a newer agent's info still parses", (t) => {
  const base = JSON.parse(VALID.info[0]) as Record<string, unknown>;
  const parsed = parseMessage("info", JSON.stringify({ ...base, future: { anything: [1, 2] } }));
  t.true(parsed.ok);
});

test("what the publishers' formatters write parses back: one contract for both sides", (t) => {
  t.deepEqual(parseMessage("state", formatState(true)), { ok: true, value: "ON" });
  t.deepEqual(parseMessage("power", formatPower(230.46)), { ok: true, value: 230.5 });
  t.deepEqual(parseMessage("current", formatCurrent(1.0004)), { ok: true, value: 1 });
  t.deepEqual(parseMessage("energy", formatEnergy(12.34567)), { ok: true, value: 12.3457 });
  t.deepEqual(parseMessage("total/power", formatPower(0)), { ok: true, value: 0 });
  t.deepEqual(parseMessage("power", formatPower(-0.00001)), { ok: true, value: 0 }, '"-0.0" is zero');
  t.deepEqual(parseMessage("availability", ONLINE), { ok: true, value: "online" });
  t.deepEqual(parseMessage("availability", OFFLINE), { ok: true, value: "offline" });
});

test("a PDU-wide result keeps the outlets the agent skipped on purpose, and a power-on behaviour result its policy", (t) => {
  const allOff = parseMessage(
    "result",
    JSON.stringify({
      outlet: null,
      command: "all_off",
      status: "ok",
      outlets: { "1": "OFF", "2": "ON" },
      skipped: { "2": { code: "protected_outlet", message: "outlet 2 is protected" } },
    }),
  );
  t.like(allOff, { ok: true, value: { skipped: { "2": { code: "protected_outlet" } } } });
  const policy = parseMessage(
    "result",
    JSON.stringify({ outlet: 2, command: "power_on_behavior", status: "ok", power_on_behavior: "last" }),
  );
  t.like(policy, { ok: true, value: { power_on_behavior: "last" } });
  t.false(parseMessage("result", JSON.stringify({ outlet: 1, command: "on", status: "ok", skipped: [] })).ok);
});

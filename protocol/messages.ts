// The MQTT contract's payloads as one typed map: for every kind of message a piPDU part reads, the type it
// becomes and the parser that gets it there. Every payload is hostile until parsed: a parser never throws and
// never returns a value a reader could trip over (a missing field, a null in a list, a string where a number
// belongs, a prototype key); it answers {ok:true,value} or {ok:false,reason}.
import type { CommandError, ErrorCode } from "./commands.ts";
import type {
  DiagnosticsPayload,
  InfoPayload,
  OutletFault,
  OutletState,
  OverloadAlarmPayload,
  PendingActionPayload,
  PowerOnBehavior,
  ResultPayload,
  TelemetryPayload,
} from "./payloads.ts";
import { isValidPduId, type ParsedTopic } from "./topics.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Topic kind → the value its payload parses to. */
export interface MessageMap {
  availability: "online" | "offline";
  info: InfoPayload;
  state: OutletState;
  power: number;
  current: number;
  energy: number;
  fault: OutletFault;
  power_on_behavior: PowerOnBehavior;
  result: ResultPayload;
  telemetry: TelemetryPayload;
  pending: PendingActionPayload[];
  diagnostics: DiagnosticsPayload;
  alarm: OverloadAlarmPayload;
  "total/power": number;
  "total/current": number;
  "total/energy": number;
  /** Home Assistant's birth and last-will messages on its status topic. */
  "ha-status": "online" | "offline";
}
export type MessageKind = keyof MessageMap;

/** Outlets a PDU may announce: more than any piPDU has, few enough to bound what a reader keeps. */
export const MAX_OUTLETS = 64;
/** The longest JSON payload a reader parses (an info of MAX_OUTLETS outlets is a few kB). */
export const MAX_JSON_BYTES = 64 * 1024;
const MAX_TEXT_BYTES = 64;
const MAX_NAME = 128;
const MAX_PENDING = 1024;
/** Readings a PDU may report: finite, never negative, below a gigawatt. */
const MAX_READING = 1e9;

const ERROR_CODES: readonly ErrorCode[] = [
  "payload_too_large",
  "invalid_utf8",
  "invalid_payload",
  "unknown_field",
  "invalid_value",
  "invalid_outlet",
  "invalid_delay",
  "retained_command",
  "hardware_error",
  "shutting_down",
  "cancelled",
  "protected_outlet",
  "overload",
];
const COMMANDS: readonly NonNullable<ResultPayload["command"]>[] = [
  "on",
  "off",
  "toggle",
  "cycle",
  "all_on",
  "all_off",
  "cancel",
  "power_on_behavior",
];

type Payload = Uint8Array | string;

export const MESSAGE_PARSERS: { readonly [K in MessageKind]: (payload: Payload) => Parsed<MessageMap[K]> } = {
  availability: (p) => word(p, ["online", "offline"] as const),
  info: (p) => json(p, info),
  state: (p) => word(p, ["ON", "OFF"] as const),
  power: reading,
  current: reading,
  energy: reading,
  fault: (p) => word(p, ["none", "dead_load", "welded_relay"] as const),
  power_on_behavior: (p) => word(p, ["off", "on", "last"] as const),
  result: (p) => json(p, result),
  telemetry: (p) => json(p, telemetry),
  pending: (p) => json(p, pending),
  diagnostics: (p) => json(p, diagnostics),
  alarm: (p) => json(p, alarm),
  "total/power": reading,
  "total/current": reading,
  "total/energy": reading,
  "ha-status": (p) => word(p, ["online", "offline"] as const),
};

/** Parse a payload as the given kind of message. Never throws. */
export function parseMessage<K extends MessageKind>(kind: K, payload: Payload): Parsed<MessageMap[K]> {
  try {
    return MESSAGE_PARSERS[kind](payload);
  } catch (err) {
    // Unreachable by design; a parser that throws is a bug, and still must not take a reader down.
    return fail(`parser failed: ${(err as Error).message}`);
  }
}

/** The kind of message a topic of the tree carries; null for command topics, which the agent parses. */
export function messageKindOf(topic: ParsedTopic): MessageKind | null {
  switch (topic.kind) {
    case "metric":
      return topic.metric;
    case "total":
      return `total/${topic.metric}`;
    case "set":
    case "pdu-set":
    case "power_on_behavior-set":
      return null;
    default:
      return topic.kind;
  }
}

// ---- text --------------------------------------------------------------------------------------------

function text(payload: Payload, max: number): Parsed<string> {
  if (typeof payload === "string") {
    return payload.length > max ? fail(`longer than ${max} characters`) : { ok: true, value: payload };
  }
  if (payload.length > max) return fail(`${payload.length} bytes; at most ${max} allowed`);
  try {
    return { ok: true, value: new TextDecoder("utf-8", { fatal: true }).decode(payload) };
  } catch {
    return fail("not valid UTF-8");
  }
}

function word<W extends string>(payload: Payload, words: readonly W[]): Parsed<W> {
  const t = text(payload, MAX_TEXT_BYTES);
  if (!t.ok) return t;
  return (words as readonly string[]).includes(t.value)
    ? { ok: true, value: t.value as W }
    : fail(`${quote(t.value)} is not one of ${words.join(", ")}`);
}

function reading(payload: Payload): Parsed<number> {
  const t = text(payload, MAX_TEXT_BYTES);
  if (!t.ok) return t;
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(t.value)) return fail(`${quote(t.value)} is not a decimal number`);
  // "-0.0" (a reading that rounds to zero from below) is zero; anything really negative is refused.
  const n = Math.abs(Number(t.value)) === 0 ? 0 : Number(t.value);
  return n >= 0 && n <= MAX_READING ? { ok: true, value: n } : fail(`${quote(t.value)} is out of range`);
}

function json<T>(payload: Payload, shape: (v: unknown) => Parsed<T>): Parsed<T> {
  const t = text(payload, MAX_JSON_BYTES);
  if (!t.ok) return t;
  let value: unknown;
  try {
    value = JSON.parse(t.value);
  } catch {
    return fail("not valid JSON");
  }
  return shape(value);
}

// ---- field checks ------------------------------------------------------------------------------------
// Each returns the checked value or throws Invalid, caught once per message in `object`/`list` callers below.

class Invalid extends Error {}

type Obj = Record<string, unknown>;

function obj(v: unknown, where: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Invalid(`${where} is not an object`);
  return v as Obj;
}
/** An own property only: "__proto__", "constructor" and the like are never read through the prototype. */
function field(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}
function str(o: Obj, key: string, where: string, max = MAX_NAME): string {
  const v = field(o, key);
  if (typeof v !== "string" || v.length > max)
    throw new Invalid(`${where}.${key} is not a string of at most ${max} characters`);
  return v;
}
function num(o: Obj, key: string, where: string, min = 0, max = MAX_READING): number {
  const v = field(o, key);
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
    throw new Invalid(`${where}.${key} is not a number from ${min} to ${max}`);
  return v;
}
function int(o: Obj, key: string, where: string, min: number, max: number): number {
  const v = num(o, key, where, min, max);
  if (!Number.isInteger(v)) throw new Invalid(`${where}.${key} is not a whole number`);
  return v;
}
function bool(o: Obj, key: string, where: string): boolean {
  const v = field(o, key);
  if (typeof v !== "boolean") throw new Invalid(`${where}.${key} is not true or false`);
  return v;
}
function oneOf<W extends string>(o: Obj, key: string, where: string, words: readonly W[]): W {
  const v = field(o, key);
  if (typeof v !== "string" || !(words as readonly string[]).includes(v))
    throw new Invalid(`${where}.${key} is not one of ${words.join(", ")}`);
  return v as W;
}
function arr(v: unknown, where: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new Invalid(`${where} is not a list`);
  if (v.length > max) throw new Invalid(`${where} has more than ${max} entries`);
  return v;
}
function outletNumbers(v: unknown, where: string): number[] {
  return arr(v, where, MAX_OUTLETS).map((n, i) => {
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_OUTLETS)
      throw new Invalid(`${where}[${i}] is not an outlet number`);
    return n;
  });
}
function checked<T>(build: () => T): Parsed<T> {
  try {
    return { ok: true, value: build() };
  } catch (err) {
    if (err instanceof Invalid) return fail(err.message);
    throw err;
  }
}

// ---- payload shapes ----------------------------------------------------------------------------------

function info(v: unknown): Parsed<InfoPayload> {
  return checked(() => {
    const o = obj(v, "info");
    const pdu = str(o, "pdu", "info", 64);
    if (!isValidPduId(pdu)) throw new Invalid("info.pdu is not a PDU id");
    const seen = new Set<number>();
    const outlets = arr(field(o, "outlets"), "info.outlets", MAX_OUTLETS).map((entry, i) => {
      const where = `info.outlets[${i}]`;
      const e = obj(entry, where);
      const number = int(e, "number", where, 1, MAX_OUTLETS);
      if (seen.has(number)) throw new Invalid(`${where}.number ${number} is listed twice`);
      seen.add(number);
      return { number, name: str(e, "name", where), protected: bool(e, "protected", where) };
    });
    if (outlets.length === 0) throw new Invalid("info.outlets is empty");
    const firmware = obj(field(o, "firmware"), "info.firmware");
    const agent = obj(field(o, "agent"), "info.agent");
    const mains = obj(field(o, "mains"), "info.mains");
    const limits = obj(field(o, "limits"), "info.limits");
    return {
      pdu,
      name: str(o, "name", "info"),
      outlets,
      firmware: {
        version: str(firmware, "version", "info.firmware", 64),
        hardware: str(firmware, "hardware", "info.firmware", 64),
      },
      agent: { version: str(agent, "version", "info.agent", 64) },
      mains: {
        voltage: num(mains, "voltage", "info.mains", 0, 1000),
        voltageSource: oneOf(mains, "voltageSource", "info.mains", ["configured", "measured"] as const),
        powerFactor: num(mains, "powerFactor", "info.mains", 0, 1),
        frequency: num(mains, "frequency", "info.mains", 0, 1000),
      },
      limits: {
        maxDelay: num(limits, "maxDelay", "info.limits", 0, 86_400),
        defaultCycleDelay: num(limits, "defaultCycleDelay", "info.limits", 0, 86_400),
        maxPayloadBytes: int(limits, "maxPayloadBytes", "info.limits", 0, 1 << 20),
        maxCurrent: num(limits, "maxCurrent", "info.limits", 0, 10_000),
      },
    };
  });
}

function commandError(v: unknown, where: string): CommandError {
  const e = obj(v, where);
  return { code: oneOf(e, "code", where, ERROR_CODES), message: str(e, "message", where, 1024) };
}

function result(v: unknown): Parsed<ResultPayload> {
  return checked(() => {
    const o = obj(v, "result");
    const outlet = field(o, "outlet");
    const command = field(o, "command");
    if (outlet !== null && (typeof outlet !== "number" || !Number.isInteger(outlet) || outlet < 0))
      throw new Invalid("result.outlet is not an outlet number or null");
    if (command !== null && !(COMMANDS as readonly unknown[]).includes(command))
      throw new Invalid("result.command is not a command or null");
    const r: ResultPayload = {
      outlet: outlet,
      command: command as ResultPayload["command"],
      status: oneOf(o, "status", "result", ["ok", "error"] as const),
    };
    const tx = field(o, "transaction");
    if (tx !== undefined) {
      if (!(typeof tx === "string" && tx.length <= 128) && !(typeof tx === "number" && Number.isFinite(tx)))
        throw new Invalid("result.transaction is not a string or a number");
      r.transaction = tx;
    }
    if (field(o, "error") !== undefined) r.error = commandError(field(o, "error"), "result.error");
    if (field(o, "state") !== undefined) r.state = oneOf(o, "state", "result", ["ON", "OFF"] as const);
    if (field(o, "source") !== undefined) r.source = str(o, "source", "result", 128);
    const outlets = field(o, "outlets");
    if (outlets !== undefined) {
      const map = obj(outlets, "result.outlets");
      const states: Record<string, OutletState> = {};
      for (const key of Object.keys(map).slice(0, MAX_OUTLETS + 1)) {
        if (!/^[0-9]{1,3}$/.test(key)) throw new Invalid("result.outlets has a key that is not an outlet");
        states[key] = oneOf(map, key, "result.outlets", ["ON", "OFF"] as const);
      }
      r.outlets = states;
    }
    const errors = field(o, "errors");
    if (errors !== undefined) r.errors = errorMap(errors, "result.errors");
    // Outlets (or, for cancel, pending action ids) left alone on purpose; the command is still ok.
    const skipped = field(o, "skipped");
    if (skipped !== undefined) r.skipped = errorMap(skipped, "result.skipped");
    if (field(o, "power_on_behavior") !== undefined)
      r.power_on_behavior = oneOf(o, "power_on_behavior", "result", ["off", "on", "last"] as const);
    const cancelled = field(o, "cancelled");
    if (cancelled !== undefined) {
      r.cancelled = arr(cancelled, "result.cancelled", MAX_PENDING).map((n, i) => {
        if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
          throw new Invalid(`result.cancelled[${i}] is not an action id`);
        return n;
      });
    }
    return r;
  });
}

/** `{"<number>": {code, message}}`, keyed by outlet number or pending action id. */
function errorMap(v: unknown, where: string): Record<string, CommandError> {
  const map = obj(v, where);
  const out: Record<string, CommandError> = {};
  for (const key of Object.keys(map).slice(0, MAX_PENDING + 1)) {
    if (!/^[0-9]{1,4}$/.test(key)) throw new Invalid(`${where} has a key that is not an outlet or action id`);
    out[key] = commandError(map[key], `${where}.${key}`);
  }
  return out;
}

function telemetry(v: unknown): Parsed<TelemetryPayload> {
  return checked(() => {
    const o = obj(v, "telemetry");
    const totals = obj(field(o, "totals"), "telemetry.totals");
    return {
      pdu: str(o, "pdu", "telemetry", 64),
      time: str(o, "time", "telemetry", 64),
      outlets: arr(field(o, "outlets"), "telemetry.outlets", MAX_OUTLETS).map((entry, i) => {
        const where = `telemetry.outlets[${i}]`;
        const e = obj(entry, where);
        return {
          outlet: int(e, "outlet", where, 1, MAX_OUTLETS),
          name: str(e, "name", where),
          state: oneOf(e, "state", where, ["ON", "OFF"] as const),
          power: num(e, "power", where),
          current: num(e, "current", where),
          energy: num(e, "energy", where),
        };
      }),
      totals: {
        power: num(totals, "power", "telemetry.totals"),
        current: num(totals, "current", "telemetry.totals"),
        energy: num(totals, "energy", "telemetry.totals"),
        outletsOn: int(totals, "outletsOn", "telemetry.totals", 0, MAX_OUTLETS),
      },
    };
  });
}

function pending(v: unknown): Parsed<PendingActionPayload[]> {
  return checked(() =>
    arr(v, "pending", MAX_PENDING).map((entry, i) => {
      const where = `pending[${i}]`;
      const e = obj(entry, where);
      const dueAt = field(e, "dueAt");
      if (dueAt !== null && (typeof dueAt !== "number" || !Number.isFinite(dueAt)))
        throw new Invalid(`${where}.dueAt is not a time or null`);
      const action: PendingActionPayload = {
        id: int(e, "id", where, 1, Number.MAX_SAFE_INTEGER),
        outlet: int(e, "outlet", where, 1, MAX_OUTLETS),
        action: oneOf(e, "action", where, ["on", "off", "toggle", "cycle"] as const),
        dueAt,
      };
      if (field(e, "source") !== undefined)
        action.source = oneOf(e, "source", where, ["command", "cold_start"] as const);
      return action;
    }),
  );
}

function diagnostics(v: unknown): Parsed<DiagnosticsPayload> {
  return checked(() => {
    const o = obj(v, "diagnostics");
    const d: DiagnosticsPayload = {};
    for (const key of ["linkErrors", "linkFailures"] as const)
      if (field(o, key) !== undefined) d[key] = int(o, key, "diagnostics", 0, Number.MAX_SAFE_INTEGER);
    if (field(o, "startedAt") !== undefined) d.startedAt = str(o, "startedAt", "diagnostics", 64);
    return d;
  });
}

function alarm(v: unknown): Parsed<OverloadAlarmPayload> {
  return checked(() => {
    const o = obj(v, "alarm");
    const a: OverloadAlarmPayload = { active: bool(o, "active", "alarm") };
    if (field(o, "current") !== undefined) a.current = num(o, "current", "alarm");
    if (field(o, "limit") !== undefined) a.limit = num(o, "limit", "alarm");
    const since = field(o, "since");
    if (since !== undefined) {
      if (since !== null && (typeof since !== "number" || !Number.isFinite(since)))
        throw new Invalid("alarm.since is not a time or null");
      a.since = since;
    }
    if (field(o, "outlets") !== undefined) a.outlets = outletNumbers(field(o, "outlets"), "alarm.outlets");
    if (field(o, "shed") !== undefined) a.shed = outletNumbers(field(o, "shed"), "alarm.shed");
    return a;
  });
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function quote(value: string): string {
  const clipped = value.length > 24 ? `${value.slice(0, 24)}…` : value;
  return JSON.stringify(clipped);
}

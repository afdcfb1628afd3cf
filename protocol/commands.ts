// Parsing of `<base>/<pdu>/outlet/<n>/set` payloads. Every input is hostile: anything that is not
// exactly a known command comes back as a CommandError that names the field, the value and what is allowed.
import { parseOutletNumber } from "./topics.ts";

export type Action = "on" | "off" | "toggle" | "cycle";
export type Transaction = string | number;

export interface Command {
  outlet: number;
  action: Action;
  /** cycle: seconds between off and on. on/off/toggle: seconds to wait before acting. */
  delay?: number;
  transaction?: Transaction;
  /** Required to switch off or cycle a protected outlet. */
  force?: boolean;
}

export type ErrorCode =
  | "payload_too_large"
  | "invalid_utf8"
  | "invalid_payload"
  | "unknown_field"
  | "invalid_value"
  | "invalid_outlet"
  | "invalid_delay"
  | "retained_command"
  | "hardware_error"
  | "shutting_down"
  | "cancelled"
  | "protected_outlet"
  | "overload"
  | "too_many_pending"
  | "internal_error";

export interface CommandError {
  code: ErrorCode;
  message: string;
}

export interface CommandLimits {
  outletCount: number;
  maxDelay: number;
  defaultCycleDelay: number;
}

export const MAX_PAYLOAD_BYTES = 1024;
export const MAX_TRANSACTION_LENGTH = 128;
const ACTIONS: readonly Action[] = ["on", "off", "toggle", "cycle"];
const JSON_FIELDS = ["state", "action", "delay", "transaction", "force"];

/** The payload as trimmed text: at most MAX_PAYLOAD_BYTES of valid UTF-8, checked before anything else. */
export function decodePayload(
  payload: Uint8Array,
): { ok: true; text: string } | { ok: false; error: CommandError } {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    const message = `payload is ${payload.length} bytes; at most ${MAX_PAYLOAD_BYTES} allowed`;
    return { ok: false, error: { code: "payload_too_large", message } };
  }
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(payload).trim() };
  } catch {
    return { ok: false, error: { code: "invalid_utf8", message: "payload is not valid UTF-8" } };
  }
}

export type ParseResult =
  | { ok: true; command: Command }
  | { ok: false; error: CommandError; outlet: number | null; action?: Action; transaction?: Transaction };

export function parseCommand(rawOutlet: string, payload: Uint8Array, limits: CommandLimits): ParseResult {
  const outlet = parseOutletNumber(rawOutlet, limits.outletCount);
  const fail = (code: ErrorCode, message: string, transaction?: Transaction): ParseResult =>
    transaction === undefined
      ? { ok: false, error: { code, message }, outlet }
      : { ok: false, error: { code, message }, outlet, transaction };

  const decoded = decodePayload(payload);
  if (!decoded.ok) return fail(decoded.error.code, decoded.error.message);
  const text = decoded.text;

  const parsed = text.startsWith("{") ? parseJson(text, limits) : parseWord(text);
  if (!parsed.ok) return fail(parsed.error.code, parsed.error.message, parsed.transaction);
  if (outlet === null) {
    const failure = fail(
      "invalid_outlet",
      `outlet "${printable(rawOutlet)}" does not exist; outlets are numbered 1 to ${limits.outletCount}`,
      parsed.command.transaction,
    );
    return { ...failure, action: parsed.command.action } as ParseResult;
  }
  const command: Command = { ...parsed.command, outlet };
  if (command.action === "cycle" && command.delay === undefined) command.delay = limits.defaultCycleDelay;
  return { ok: true, command };
}

type Partial =
  | { ok: true; command: Omit<Command, "outlet"> }
  | { ok: false; error: CommandError; transaction?: Transaction };

function parseWord(text: string): Partial {
  const action = text.toLowerCase();
  if ((ACTIONS as readonly string[]).includes(action))
    return { ok: true, command: { action: action as Action } };
  return {
    ok: false,
    error: {
      code: "invalid_payload",
      message: `payload "${printable(text)}" is not a command; send ON, OFF, TOGGLE, CYCLE or a JSON object such as {"state":"ON"} or {"action":"cycle","delay":5}`,
    },
  };
}

function parseJson(text: string, limits: CommandLimits): Partial {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      ok: false,
      error: { code: "invalid_payload", message: "payload starts with { but is not valid JSON" },
    };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: { code: "invalid_payload", message: "JSON payload must be an object" } };
  }
  const obj = value as Record<string, unknown>;
  const transaction = obj["transaction"];
  let tx: Transaction | undefined;
  if (transaction !== undefined) {
    const valid =
      (typeof transaction === "string" && transaction.length <= MAX_TRANSACTION_LENGTH) ||
      (typeof transaction === "number" && Number.isFinite(transaction));
    if (!valid) {
      return invalid(
        "invalid_value",
        `"transaction" must be a string of at most ${MAX_TRANSACTION_LENGTH} characters or a number`,
      );
    }
    tx = transaction;
  }
  function invalid(code: ErrorCode, message: string): Partial {
    return tx === undefined
      ? { ok: false, error: { code, message } }
      : { ok: false, error: { code, message }, transaction: tx };
  }

  const unknown = Object.keys(obj).filter((k) => !JSON_FIELDS.includes(k));
  if (unknown.length > 0) {
    return invalid(
      "unknown_field",
      `unknown field "${printable(unknown[0] ?? "")}"; allowed fields: ${JSON_FIELDS.join(", ")}`,
    );
  }
  const hasState = "state" in obj;
  const hasAction = "action" in obj;
  if (hasState === hasAction) {
    return invalid(
      "invalid_payload",
      'JSON command needs exactly one of "state" (ON/OFF/TOGGLE) or "action" (on/off/toggle/cycle)',
    );
  }
  const field = hasState ? "state" : "action";
  const raw = obj[field];
  const allowed: readonly string[] = hasState ? ["on", "off", "toggle"] : ACTIONS;
  if (typeof raw !== "string" || !allowed.includes(raw.toLowerCase())) {
    const shown = hasState ? "ON, OFF, TOGGLE" : "on, off, toggle, cycle";
    return invalid("invalid_value", `"${field}" is ${describe(raw)}; allowed: ${shown}`);
  }
  const command: Omit<Command, "outlet"> = { action: raw.toLowerCase() as Action };

  if ("delay" in obj) {
    const delay = obj["delay"];
    if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0 || delay > limits.maxDelay) {
      return invalid(
        "invalid_delay",
        `"delay" is ${describe(delay)}; allowed: a number of seconds from 0 to ${limits.maxDelay}`,
      );
    }
    command.delay = delay;
  }
  if ("force" in obj) {
    if (typeof obj["force"] !== "boolean")
      return invalid("invalid_value", `"force" is ${describe(obj["force"])}; allowed: true or false`);
    command.force = obj["force"];
  }
  if (tx !== undefined) command.transaction = tx;
  return { ok: true, command };
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  const json = JSON.stringify(value);
  return printable(json.length > 40 ? `${json.slice(0, 40)}…` : json);
}

/** Keep error messages one readable line whatever the input held. */
function printable(text: string): string {
  const clipped = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return clipped.replace(/[\u0000-\u001f\u007f]/g, "?");
}

// Parsing of PDU-wide commands on `<base>/<pdu>/set`: all_on (staggered), all_off, cancel.
import type { CommandError, Transaction } from "./commands.ts";
import { decodePayload, MAX_TRANSACTION_LENGTH } from "./commands.ts";

export type PduAction = "all_on" | "all_off" | "cancel";

export interface PduCommand {
  action: PduAction;
  /** cancel: the pending action with this id… */
  id?: number;
  /** …or every pending action of this outlet (neither: every pending action). */
  outlet?: number;
  force?: boolean;
  transaction?: Transaction;
}

const FIELDS = ["action", "id", "outlet", "force", "transaction"];
const ACTIONS: readonly PduAction[] = ["all_on", "all_off", "cancel"];

export type PduParseResult =
  { ok: true; command: PduCommand } | { ok: false; error: CommandError; transaction?: Transaction };

export function parsePduCommand(payload: Uint8Array, outletCount: number): PduParseResult {
  const fail = (code: CommandError["code"], message: string, transaction?: Transaction): PduParseResult =>
    transaction === undefined
      ? { ok: false, error: { code, message } }
      : { ok: false, error: { code, message }, transaction };
  const decoded = decodePayload(payload);
  if (!decoded.ok) return fail(decoded.error.code, decoded.error.message);
  const text = decoded.text;
  const word = text.toLowerCase();
  if ((ACTIONS as readonly string[]).includes(word))
    return { ok: true, command: { action: word as PduAction } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(
      "invalid_payload",
      'PDU commands: ALL_ON, ALL_OFF, CANCEL or JSON such as {"action":"cancel","id":3}',
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return fail("invalid_payload", "JSON payload must be an object");
  const obj = value as Record<string, unknown>;
  const tx = obj["transaction"];
  const transaction =
    (typeof tx === "string" && tx.length <= MAX_TRANSACTION_LENGTH) ||
    (typeof tx === "number" && Number.isFinite(tx))
      ? tx
      : undefined;
  if (tx !== undefined && transaction === undefined)
    return fail(
      "invalid_value",
      `"transaction" must be a string of at most ${MAX_TRANSACTION_LENGTH} characters or a number`,
    );
  const unknown = Object.keys(obj).find((k) => !FIELDS.includes(k));
  if (unknown !== undefined)
    return fail(
      "unknown_field",
      `unknown field "${unknown.slice(0, 40)}"; allowed fields: ${FIELDS.join(", ")}`,
      transaction,
    );
  const action = obj["action"];
  if (typeof action !== "string" || !(ACTIONS as readonly string[]).includes(action.toLowerCase())) {
    return fail("invalid_value", `"action" must be one of ${ACTIONS.join(", ")}`, transaction);
  }
  const command: PduCommand = { action: action.toLowerCase() as PduAction };
  if (transaction !== undefined) command.transaction = transaction;
  if (obj["id"] !== undefined) {
    if (!Number.isInteger(obj["id"]) || (obj["id"] as number) < 1)
      return fail("invalid_value", '"id" must be a pending action id (a positive integer)', transaction);
    command.id = obj["id"] as number;
  }
  if (obj["outlet"] !== undefined) {
    const n = obj["outlet"];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > outletCount)
      return fail("invalid_outlet", `"outlet" must be 1 to ${outletCount}`, transaction);
    command.outlet = n;
  }
  if (obj["force"] !== undefined) {
    if (typeof obj["force"] !== "boolean")
      return fail("invalid_value", '"force" must be true or false', transaction);
    command.force = obj["force"];
  }
  return { ok: true, command };
}

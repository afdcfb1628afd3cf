// PDU-wide commands on `<base>/<pdu>/set`: staggered all-on, all-off, cancelling pending actions.
import type { Settings } from "../config/settings.ts";
import type { ResultPayload } from "../protocol/payloads.ts";
import type { PduCommand } from "../protocol/pdu-commands.ts";
import type { CommandExecutor } from "./command-executor.ts";

export async function runPduCommand(
  executor: CommandExecutor,
  settings: Settings,
  outletCount: number,
  command: PduCommand,
  /** Cancels the firmware's pending cold-start steps that match; resolves with their pending ids. */
  cancelColdStart: (filter: { id?: number; outlet?: number }) => Promise<number[]>,
): Promise<ResultPayload> {
  const { transaction, action, ...rest } = command;
  const options = transaction === undefined ? rest : { ...rest, transaction };
  if (action === "all_on") {
    // Each outlet waits its own onDelay (or the stagger delay) after the one before: inrush spread out.
    const delays = Array.from(
      { length: outletCount },
      (_, i) => settings.outlets[i]?.onDelay ?? settings.safety.staggerDelay,
    );
    return executor.allOn(delays, options);
  }
  if (action === "all_off") return executor.allOff(options);
  const filter = {
    ...(command.id !== undefined ? { id: command.id } : {}),
    ...(command.outlet !== undefined ? { outlet: command.outlet } : {}),
  };
  const result: ResultPayload = {
    outlet: command.outlet ?? null,
    command: "cancel",
    status: "ok",
    cancelled: [...executor.cancel(filter), ...(await cancelColdStart(filter))],
  };
  if (transaction !== undefined) result.transaction = transaction;
  return result;
}

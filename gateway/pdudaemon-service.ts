// What PDUDaemon's listener does (pdudaemon/listener.py process_request), on the bus: resolve the alias or
// hostname + port, check the command and delay, and run it. `reboot` is the agent's atomic cycle, so no
// other client's command can slip between its off and its on (upstream runs it as two jobs).
import type { PduDirectory } from "../client/pdu-directory.ts";
import type { AliasTarget } from "./aliases.ts";
import type { TokenCheck } from "./auth.ts";
import type { OutletCommands, Outcome } from "./outlet-commands.ts";
import { resolveOutlet, resolvePdu } from "./outlet-resolver.ts";
import { isCommand, parseDelay, printable, type PdudaemonRequest } from "./pdudaemon-request.ts";

export interface PdudaemonDeps {
  directory: PduDirectory;
  commands: OutletCommands;
  tokens: TokenCheck;
  aliases: Map<string, AliasTarget>;
}

export class PdudaemonService {
  constructor(private readonly deps: PdudaemonDeps) {}

  /** `peer`: the client's address, named as the command's source. */
  async handle(api: string, request: PdudaemonRequest, peer?: string): Promise<Outcome> {
    const invalid = (message: string): Outcome => ({ code: "invalid_request", message });
    const { command } = request;
    if (!isCommand(command)) return invalid(`unknown command "${printable(command)}"; use on, off or reboot`);
    if (!this.deps.tokens.accepts(request.token)) {
      return {
        code: "unauthorised",
        message: "this gateway needs a token to switch: add &token=<token> to the hostname",
      };
    }
    let { hostname, port } = request;
    if (request.alias !== undefined) {
      if (hostname !== undefined || port !== undefined)
        return invalid("use either alias or hostname and port, not both");
      const target = this.deps.aliases.get(request.alias);
      if (!target) return invalid(`unknown alias "${printable(request.alias)}"`);
      ({ hostname, port } = target);
    }
    if (hostname === undefined || hostname === "") return invalid("missing hostname (the PDU id)");
    if (port === undefined || port === "") return invalid("missing port (an outlet number or name)");
    const pdu = resolvePdu(this.deps.directory, hostname);
    if (!pdu.ok) return { code: pdu.code, message: pdu.message };
    const outlet = resolveOutlet(pdu.value, port);
    if (!outlet.ok) return { code: outlet.code, message: outlet.message };
    const limits = pdu.value.info?.limits;
    const delay = parseDelay(
      request.delay,
      command,
      limits?.defaultCycleDelay ?? 5,
      limits?.maxDelay ?? 3600,
    );
    if (!delay.ok) return invalid(delay.message);
    const action = command === "reboot" ? "cycle" : command;
    return this.deps.commands.run(
      api,
      pdu.value,
      outlet.value,
      delay.value > 0 || action === "cycle" ? { action, delay: delay.value } : { action },
      peer,
    );
  }
}

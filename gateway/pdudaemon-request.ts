// PDUDaemon requests as the two listeners receive them, parsed into one shape. Pure: no I/O.
// TCP (what `pduclient` sends, no newline): "<hostname> <port> <command>[ <delay>]".
// HTTP: GET /power/control/<command>?hostname=&port=&delay= or ?alias=&delay=.
// A token may ride along as `&token=` after the hostname in both, so LAVA and labgrid, which cannot add
// headers, still work when the gateway asks for one (README: Gateway / LAVA / labgrid).

export type PdudaemonCommand = "on" | "off" | "reboot";
export const PDUDAEMON_COMMANDS: readonly PdudaemonCommand[] = ["on", "off", "reboot"];

export interface PdudaemonRequest {
  command: string;
  hostname?: string;
  port?: string;
  alias?: string;
  delay?: string;
  token?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** The longest TCP request line accepted; PDUDaemon requests are a few dozen bytes. */
export const MAX_TCP_REQUEST_BYTES = 512;

export function parseTcpRequest(line: string): Parsed<PdudaemonRequest> {
  const words = line
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  if (words.length < 3 || words.length > 4) {
    return {
      ok: false,
      message: `expected "<hostname> <port> <command> [<delay>]", got ${words.length} word${words.length === 1 ? "" : "s"}`,
    };
  }
  const [host = "", port = "", command = "", delay] = words;
  const { hostname, token } = splitToken(host);
  const request: PdudaemonRequest = { command, hostname, port };
  if (delay !== undefined) request.delay = delay;
  if (token !== undefined) request.token = token;
  return { ok: true, value: request };
}

/** `command` is the last path segment; `query` the URL's parameters (first value of each, as upstream). */
export function parseHttpRequest(command: string, query: URLSearchParams): PdudaemonRequest {
  const request: PdudaemonRequest = { command };
  for (const key of ["hostname", "port", "alias", "delay", "token"] as const) {
    const value = query.get(key);
    if (value !== null) request[key] = value;
  }
  if (request.hostname !== undefined) {
    const { hostname, token } = splitToken(request.hostname);
    request.hostname = hostname;
    if (token !== undefined && request.token === undefined) request.token = token;
  }
  return request;
}

/** "pdu1&token=secret" → hostname pdu1, token secret: a pduclient `--hostname` that carries the token. */
function splitToken(host: string): { hostname: string; token?: string } {
  const at = host.indexOf("&token=");
  if (at < 0) return { hostname: host };
  return { hostname: host.slice(0, at), token: host.slice(at + "&token=".length) };
}

/** PDUDaemon delays are whole or decimal seconds, never negative; undefined when none was given (the agent
 * then applies its own default, upstream's 5 s for reboot). The agent refuses one past its maximum. */
export function parseDelay(raw: string | undefined): Parsed<number | undefined> {
  if (raw === undefined || raw === "") return { ok: true, value: undefined };
  if (!/^[0-9]{1,6}(\.[0-9]{1,3})?$/.test(raw)) {
    return { ok: false, message: `delay "${printable(raw)}" is not a number of seconds (0 or more)` };
  }
  return { ok: true, value: Number(raw) };
}

export function isCommand(command: string): command is PdudaemonCommand {
  return (PDUDAEMON_COMMANDS as readonly string[]).includes(command);
}

/** Keep anything a client sent printable and short when it is echoed in an error. */
export function printable(text: string, max = 40): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return clipped.replace(/[^\x20-\x7e\u00a0-\uffff]/g, "?");
}

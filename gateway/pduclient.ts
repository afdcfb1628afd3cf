// `pipdu client`: a drop-in for PDUDaemon's `pduclient`, so LAVA device dictionaries work unchanged.
// Same options, messages and exit codes: 0 sent and acknowledged, 1 bad usage or daemon unreachable,
// 127 the daemon refused; 2 for an option value optparse itself rejects (--delay x). As upstream, the TCP
// request has no newline and only "ack" (after stripping) counts as success. Unlike upstream, --daemon
// may carry a port ("host:16421", "[::1]:16421"); upstream always uses 16421.
import net from "node:net";

const USAGE =
  "Usage: pipdu client --daemon deamonhostname --hostname pduhostname --port pduportnum --command pducommand";
const HELP = `${USAGE}

PDUDaemon client

Options:
  -h, --help            show this help message and exit
  -H, --http            Use HTTP protocol
  --daemon=PDUDAEMONHOSTNAME
                        PDUDaemon listener hostname (ex: localhost)
  --hostname=PDUHOSTNAME
                        PDU Hostname (ex: pdu05)
  --port=PDUPORTNUM     PDU Portnumber (ex: 04)
  --command=PDUCOMMAND  PDU command (ex: reboot|on|off)
  --delay=PDUDELAY      Delay before command runs, or between off/on when
                        rebooting (ex: 5)`;

const DEFAULT_PORT = 16421;

interface Options {
  http: boolean;
  daemon?: string;
  hostname?: string;
  port?: string;
  command?: string;
  delay?: number;
}

export interface ClientIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const consoleIo: ClientIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

export async function runClient(argv: string[], io: ClientIo = consoleIo): Promise<number> {
  const parsed = parseArgs(argv);
  if ("exit" in parsed) {
    if (parsed.exit === 0) io.out(HELP);
    else io.err(`${USAGE}\n\npipdu client: error: ${parsed.message}`);
    return parsed.exit;
  }
  const options = parsed;
  if (!options.daemon || !options.hostname || !options.port || !options.command) {
    io.out("Missing option, try -h for help");
    return 1;
  }
  if (!["reboot", "on", "off"].includes(options.command)) {
    io.out(`Unknown pdu command: ${options.command}`);
    return 1;
  }
  const { host, port } = splitDaemon(options.daemon);
  const delay = options.delay ? ` ${options.delay}` : "";
  if (options.http) {
    const query = `hostname=${options.hostname}&port=${options.port}${options.delay ? `&delay=${options.delay}` : ""}`;
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/power/control/${options.command}?${query}`;
    let response: Response;
    try {
      response = await fetch(url);
      await response.text();
    } catch {
      io.out("Error sending command, wrong daemon hostname?");
      return 1;
    }
    if (response.ok) {
      io.out("Command sent successfully.");
      return 0;
    }
    io.out(`Error sending command! ${options.daemon} replied: <Response [${response.status}]>`);
    return 127;
  }
  const line = `${options.hostname} ${options.port} ${options.command}${delay}`;
  let reply: string;
  try {
    reply = (await tcpRequest(host, port, line)).trim();
  } catch {
    io.out("Error sending command, wrong daemon hostname?");
    return 1;
  }
  if (reply === "ack") {
    io.out("Command sent successfully.");
    return 0;
  }
  io.out(`Error sending command! ${options.daemon} replied: ${reply}`);
  return 127;
}

/** One send without a newline, then everything until the daemon closes (at most 16 KiB, as upstream). */
function tcpRequest(host: string, port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let data = Buffer.alloc(0);
    socket.once("connect", () => socket.write(line));
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]).subarray(0, 16384);
    });
    socket.once("error", reject);
    socket.once("close", () => resolve(data.toString("utf8")));
  });
}

function splitDaemon(daemon: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(daemon);
  if (bracketed) return { host: bracketed[1] ?? "", port: Number(bracketed[2] ?? DEFAULT_PORT) };
  const m = /^([^:]+):(\d+)$/.exec(daemon);
  if (m) return { host: m[1] ?? "", port: Number(m[2]) };
  return { host: daemon, port: DEFAULT_PORT };
}

/** optparse's rules: --opt value or --opt=value; -H and -h are flags. */
function parseArgs(argv: string[]): Options | { exit: number; message: string } {
  const options: Options = { http: false };
  const takes = new Set(["--daemon", "--hostname", "--port", "--command", "--delay"]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "-h" || arg === "--help") return { exit: 0, message: "" };
    if (arg === "-H" || arg === "--http") {
      options.http = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!takes.has(name)) {
      if (arg.startsWith("-")) return { exit: 2, message: `no such option: ${name}` };
      continue; // optparse keeps positional arguments and pduclient ignores them
    }
    let value: string | undefined = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) return { exit: 2, message: `${name} option requires 1 argument` };
    switch (name) {
      case "--daemon":
        options.daemon = value;
        break;
      case "--hostname":
        options.hostname = value;
        break;
      case "--port":
        options.port = value;
        break;
      case "--command":
        options.command = value;
        break;
      case "--delay": {
        value = value.trim();
        if (!/^[+-]?\d+$/.test(value))
          return { exit: 2, message: `option --delay: invalid integer value: '${value}'` };
        options.delay = Number.parseInt(value, 10);
        break;
      }
    }
  }
  return options;
}

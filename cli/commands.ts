// Every command and sub-command of `pipdu`, with its help text: usage, options, examples. `--help` prints
// this and nothing else happens (no configuration is read, no port bound, no broker contacted).

export interface CommandHelp {
  /** "start", "ha remove", "config check" … */
  name: string;
  summary: string;
  usage: string;
  /** [flag, meaning] */
  options: [string, string][];
  examples: string[];
  /** Accepts every setting as --key.path value. */
  settings: boolean;
  /** Options of its own besides the settings (name without "--" → takes a value). */
  own?: string[];
}

const SETTINGS_OPTION: [string, string] = [
  "--<key.path> <value>",
  "any setting, e.g. --broker.port 1884 or --pdu.id rack1 (pipdu config print lists them; README: Configuration)",
];
const CONFIG_OPTION: [string, string] = [
  "--config <file>",
  "configuration file, JSON or YAML (PIPDU_CONFIG)",
];
const COMMON: [string, string][] = [
  ["-h, --help", "show this help and exit"],
  ["-V, --version", "print the version and exit"],
];

export const COMMANDS: CommandHelp[] = [
  {
    name: "start",
    summary: "standalone: embedded broker + pdu-agent + simulated panel page + gateway",
    usage: "pipdu start [--key.path value ...]",
    options: [CONFIG_OPTION, SETTINGS_OPTION],
    examples: ["pipdu start", "pipdu start --hardware sim --broker.port 1884 --http.port 8090"],
    settings: true,
  },
  {
    name: "broker",
    summary: "the embedded MQTT broker only",
    usage: "pipdu broker [--key.path value ...]",
    options: [CONFIG_OPTION, SETTINGS_OPTION],
    examples: ["pipdu broker --broker.host 0.0.0.0 --broker.passwordFile /etc/pipdu/passwd"],
    settings: true,
  },
  {
    name: "pdu",
    summary: "the pdu-agent only, against the broker at mqtt.url",
    usage: "pipdu pdu [--key.path value ...]",
    options: [CONFIG_OPTION, SETTINGS_OPTION],
    examples: ["pipdu pdu --mqtt.url mqtt://broker.lan:1883 --pdu.id rack1 --hardware i2c"],
    settings: true,
  },
  {
    name: "panel",
    summary: "the front panel (LCD, buttons, LEDs; panel.driver sim|i2c|gpio) for the PDUs at mqtt.url",
    usage: "pipdu panel [--key.path value ...]",
    options: [CONFIG_OPTION, SETTINGS_OPTION],
    examples: ["pipdu panel --panel.driver i2c --mqtt.url mqtt://127.0.0.1:1883"],
    settings: true,
  },
  {
    name: "gateway",
    summary: "web page, REST API, PDUDaemon API and /metrics for every PDU at mqtt.url",
    usage: "pipdu gateway [--key.path value ...]",
    options: [CONFIG_OPTION, SETTINGS_OPTION],
    examples: ["PIPDU_GATEWAY_TOKEN=s3cret pipdu gateway --gateway.host 0.0.0.0 --http.port 8080"],
    settings: true,
  },
  {
    name: "client",
    summary: "pduclient-compatible command line for the PDUDaemon API",
    usage:
      "pipdu client --daemon <host[:port]> --hostname <pdu> --port <outlet> --command reboot|on|off [--delay s] [-H]",
    options: [
      ["--daemon <host[:port]>", "PDUDaemon listener (port 16421 unless given)"],
      ["--hostname <pdu>", "PDU id or PDUDaemon alias"],
      ["--port <n>", "outlet number"],
      ["--command <c>", "reboot, on or off"],
      ["--delay <s>", "delay before the command, or between off and on when rebooting"],
      ["-H, --http", "use the HTTP API instead of TCP"],
    ],
    examples: ["pipdu client --daemon 127.0.0.1 --hostname pdu1 --port 3 --command reboot --delay 5"],
    settings: false,
  },
  {
    name: "sim",
    summary: "N simulated PDUs (pdu01 …) in one process, against the broker at mqtt.url",
    usage: "pipdu sim --pdus N [--prefix pdu] [--key.path value ...]",
    options: [
      ["--pdus <N>", "number of simulated PDUs (default 4)"],
      ["--prefix <id>", "PDU id prefix (default pdu: pdu01, pdu02 …)"],
      CONFIG_OPTION,
      SETTINGS_OPTION,
    ],
    examples: ["pipdu sim --pdus 8 --mqtt.url mqtt://127.0.0.1:1883"],
    settings: true,
    own: ["pdus", "prefix"],
  },
  {
    name: "ha remove",
    summary: "clear this PDU's Home Assistant discovery from the broker (Home Assistant deletes the device)",
    usage: "pipdu ha remove [--key.path value ...]",
    options: [CONFIG_OPTION, SETTINGS_OPTION],
    examples: ["pipdu ha remove --pdu.id rack1 --mqtt.url mqtt://broker.lan:1883"],
    settings: true,
  },
  {
    name: "passwd",
    summary: "add or change a user in a broker password file (password from the terminal or stdin)",
    usage: "pipdu passwd <password file> <user>",
    options: [],
    examples: [
      "sudo pipdu passwd /etc/pipdu/passwd panel",
      'echo "$PASSWORD" | pipdu passwd ./passwd gateway',
    ],
    settings: false,
  },
  {
    name: "config check",
    summary: "validate the configuration (and report unknown PIPDU_* variables) and exit",
    usage: "pipdu config check [--key.path value ...]",
    options: [CONFIG_OPTION, SETTINGS_OPTION],
    examples: ["PIPDU_CONFIG=/etc/pipdu/pipdu.yaml pipdu config check"],
    settings: true,
  },
  {
    name: "config print",
    summary: "print the effective configuration (secrets and URL passwords masked)",
    usage: "pipdu config print [--key.path value ...]",
    options: [CONFIG_OPTION, SETTINGS_OPTION],
    examples: ["pipdu config print --pdu.id rack1"],
    settings: true,
  },
];

/** Commands that only group sub-commands. */
export const GROUPS: Record<string, string> = { config: "check|print", ha: "remove" };

export function findCommand(name: string): CommandHelp | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function commandHelp(c: CommandHelp): string {
  const options = [...c.options, ...COMMON];
  const width = Math.max(...options.map(([flag]) => flag.length)) + 2;
  return [
    `usage: ${c.usage}`,
    "",
    c.summary,
    "",
    "options:",
    ...options.map(([flag, meaning]) => `  ${flag.padEnd(width)}${meaning}`),
    "",
    c.examples.length === 1 ? "example:" : "examples:",
    ...c.examples.map((e) => `  ${e}`),
  ].join("\n");
}

export function groupHelp(group: string): string {
  const subs = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return [
    `usage: pipdu ${group} <${GROUPS[group] ?? ""}> [options]`,
    "",
    "sub-commands:",
    ...subs.map((c) => `  ${c.name.padEnd(14)}${c.summary}`),
    "",
    `Each answers --help, e.g. pipdu ${subs[0]?.name ?? group} --help.`,
    "",
    "example:",
    `  ${subs[0]?.examples[0] ?? ""}`,
  ].join("\n");
}

export const USAGE = `usage: pipdu <command> [options]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join("\n")}

options:
  -h, --help      this help; pipdu <command> --help shows a command's options and an example
  -V, --version   print the version

Settings come from defaults < PIPDU_CONFIG file < PIPDU_* environment < --key.path value (README: Configuration).

example:
  pipdu start --hardware sim`;

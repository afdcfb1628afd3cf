// pipdu <command>: the one entry point. Sub-commands live in their own files; cli/commands.ts holds their help.
// `--help` and `--version` are answered before anything else, so they never read the configuration, bind a
// port or talk to a broker.
import { ConfigError, loadConfig, type Settings } from "../config/load.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { PACKAGE_VERSION } from "../lib/package-root.ts";
import { COMMANDS, GROUPS, USAGE, commandHelp, findCommand, groupHelp } from "./commands.ts";
import { closest } from "../config/suggest.ts";
import { runBroker, runPdu, runStandalone } from "./run.ts";
import { runSimFleet } from "./sim-fleet.ts";

const HELP_FLAGS = new Set(["--help", "-h"]);
const VERSION_FLAGS = new Set(["--version", "-V"]);

/** Flags before a "--" (after it, everything is an argument). */
function flags(args: string[]): string[] {
  const end = args.indexOf("--");
  return end === -1 ? args : args.slice(0, end);
}

/** The package version (package.json beside the sources or beside dist/). */
export function version(): string {
  return PACKAGE_VERSION;
}

export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined) {
    console.error(USAGE);
    return 2;
  }
  if (HELP_FLAGS.has(first) || first === "help") {
    // pipdu help <command>: the same as pipdu <command> --help.
    const topic = first === "help" ? argv.slice(1).join(" ") : "";
    const named = findCommand(topic);
    console.log(named !== undefined ? commandHelp(named) : topic in GROUPS ? groupHelp(topic) : USAGE);
    return 0;
  }
  if (VERSION_FLAGS.has(first) || first === "version") {
    console.log(`pipdu ${version()}`);
    return 0;
  }
  const group = GROUPS[first];
  const name =
    group !== undefined && second !== undefined && !second.startsWith("-") ? `${first} ${second}` : first;
  const rest = argv.slice(name.split(" ").length);
  const command = findCommand(name);
  if (command === undefined) {
    if (group !== undefined && rest.some((a) => HELP_FLAGS.has(a))) {
      console.log(groupHelp(first));
      return 0;
    }
    if (group !== undefined && rest.some((a) => VERSION_FLAGS.has(a))) {
      console.log(`pipdu ${version()}`);
      return 0;
    }
    if (group !== undefined) {
      console.error(
        `pipdu ${first}: ${second === undefined ? "a sub-command is needed:" : `unknown sub-command "${second}":`} use ${group.replace("|", " or ")}\n\n${groupHelp(first)}`,
      );
      return 2;
    }
    const guess = closest(
      first,
      COMMANDS.map((c) => c.name.split(" ")[0] ?? ""),
    );
    console.error(
      `pipdu: unknown command "${first}"${guess === undefined ? "" : ` (did you mean ${guess}?)`}\n\n${USAGE}`,
    );
    return 2;
  }
  if (flags(rest).some((a) => HELP_FLAGS.has(a))) {
    console.log(commandHelp(command));
    return 0;
  }
  if (flags(rest).some((a) => VERSION_FLAGS.has(a))) {
    console.log(`pipdu ${version()}`);
    return 0;
  }
  if (name === "client") return (await import("../gateway/pduclient.ts")).runClient(rest);
  if (name === "passwd") return (await import("./passwd.ts")).runPasswd(rest);
  let settings: Settings;
  let print: () => string;
  let warnings: string[];
  try {
    ({ settings, print, warnings } = loadConfig({ argv: rest, ownOptions: command.own ?? [] }));
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) console.error(`pipdu: configuration error: ${problem}`);
      console.error(`(pipdu ${name} --help shows the options)`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: settings.log.level, format: settings.log.format });
  if (name === "config check") {
    for (const warning of warnings) console.error(`pipdu: ${warning}`);
    if (warnings.length > 0) return 2;
    console.log("configuration ok");
    return 0;
  }
  // A likely typo is reported at start-up, not fatal: the process may be one of several sharing an env file.
  for (const warning of warnings) logger.warn(`configuration: ${warning}`);
  switch (name) {
    case "config print":
      console.log(print());
      return 0;
    case "start":
      return runUntilSignal(() => runStandalone(settings, logger), logger);
    case "broker":
      return runUntilSignal(() => runBroker(settings, logger), logger);
    case "gateway":
      return runUntilSignal(
        async () => (await import("../gateway/gateway.ts")).runGateway(settings, logger),
        logger,
      );
    case "pdu":
      return runUntilSignal(() => runPdu(settings, logger), logger);
    case "ha remove":
      return (await import("../homeassistant/remove-command.ts")).runHaRemove(settings, logger);
    case "panel":
      return runUntilSignal(
        async () => (await import("../panel-agent/run-panel.ts")).runPanel(settings, logger),
        logger,
      );
    case "sim":
      return runUntilSignal(() => runSimFleet(settings, logger, rest), logger);
    default:
      console.error(`pipdu: "${name}" has no runner`);
      return 2;
  }
}

/** Start something, then stop it cleanly on SIGINT/SIGTERM. A second signal exits at once. */
async function runUntilSignal(start: () => Promise<() => Promise<void>>, logger: Logger): Promise<number> {
  // Listen before starting, so a signal during start-up (say, waiting for an unreachable broker) is not lost.
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  let stop: () => Promise<void>;
  try {
    // A signal during start-up lets start-up finish (a few seconds at most) and then stops cleanly; if it
    // cannot finish (waiting for an unreachable broker), nothing has been switched, so just leave.
    const gaveUp = signal.then(
      () => new Promise<"gave up">((resolve) => setTimeout(() => resolve("gave up"), 5000).unref()),
    );
    const first = await Promise.race([start(), gaveUp]);
    if (first === "gave up") {
      logger.info("signal during start-up: exiting");
      process.exit(0);
    }
    stop = first;
  } catch (err) {
    const message = (err as Error).message;
    const inUse = /EADDRINUSE.*:(\d+)$/.exec(message);
    const hint = inUse
      ? ` (port ${inUse[1] ?? "?"} is taken, perhaps by another pipdu or a Mosquitto: stop it, or choose another port — PIPDU_BROKER_PORT, PIPDU_HTTP_PORT, PIPDU_PDUDAEMON_PORT, PIPDU_PANEL_PORT)`
      : "";
    logger.error(`start-up failed: ${message}${hint}`);
    return 1;
  }
  logger.info(`${await signal}: stopping`);
  const force = (): never => process.exit(130);
  process.once("SIGINT", force);
  process.once("SIGTERM", force);
  try {
    await stop();
    return 0;
  } catch (err) {
    logger.error(`stop failed: ${(err as Error).message}`);
    return 1;
  }
}

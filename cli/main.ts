// pipdu <command>: the one entry point. Sub-commands live in their own files.
import { ConfigError, loadConfig, type Settings } from "../config/load.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { runBroker, runPdu, runStandalone } from "./run.ts";
import { runSimFleet } from "./sim-fleet.ts";

const USAGE = `usage: pipdu <command> [--key value ...]

commands:
  start          standalone: embedded broker + pdu-agent (simulated hardware where there is none)
  broker         the embedded MQTT broker only
  pdu            the pdu-agent only, against the broker at PIPDU_MQTT_URL
  panel          the front panel (LCD, buttons, LEDs; PIPDU_PANEL_DRIVER sim|i2c|gpio) for PDUs at PIPDU_MQTT_URL
  gateway        web page, REST API, PDUDaemon API and /metrics for every PDU at PIPDU_MQTT_URL
  client         pduclient-compatible: --daemon host --hostname pdu --port 3 --command reboot [-H]
  sim --pdus N   N simulated PDUs (pdu01 …) in one process, against the broker at PIPDU_MQTT_URL
  ha remove      clear this PDU's Home Assistant discovery from the broker (HA deletes the device)
  passwd F USER  add or change a user in the broker password file F (password from the terminal or stdin)
  config check   validate the configuration and exit
  config print   print the effective configuration (secrets masked)

Settings come from defaults < PIPDU_CONFIG file < PIPDU_* environment < --key value (README: Configuration).`;

export async function main(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  const rest = argv.slice(command === "config" || command === "ha" ? 2 : 1);
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "client") return (await import("../gateway/pduclient.ts")).runClient(argv.slice(1));
  if (command === "passwd") return (await import("./passwd.ts")).runPasswd(argv.slice(1));
  let settings: Settings;
  let print: () => string;
  try {
    ({ settings, print } = loadConfig({ argv: rest }));
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) console.error(`pipdu: configuration error: ${problem}`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: settings.log.level, format: settings.log.format });
  switch (command) {
    case "config":
      if (sub === "check") {
        console.log("configuration ok");
        return 0;
      }
      if (sub === "print") {
        console.log(print());
        return 0;
      }
      console.error(`pipdu config: unknown sub-command "${sub ?? ""}"; use check or print`);
      return 2;
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
    case "ha":
      if (sub === "remove")
        return (await import("../homeassistant/remove-command.ts")).runHaRemove(settings, logger);
      console.error(`pipdu ha: unknown sub-command "${sub ?? ""}"; use remove`);
      return 2;
    case "panel":
      return runUntilSignal(
        async () => (await import("../panel-agent/run-panel.ts")).runPanel(settings, logger),
        logger,
      );
    case "sim":
      return runUntilSignal(() => runSimFleet(settings, logger, rest), logger);
    default:
      console.error(`pipdu: unknown command "${command}"\n${USAGE}`);
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

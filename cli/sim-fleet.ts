// pipdu sim --pdus N [--prefix pdu]: N simulated PDUs in this process, against the broker at mqtt.url.
import type { Settings } from "../config/load.ts";
import type { Logger } from "../log/logger.ts";
import { homeAssistantPlugins } from "../homeassistant/plugins.ts";
import { FleetError, SimFleet, fleetIds } from "../pdu-agent/fleet.ts";
import type { AgentPlugin } from "../pdu-agent/plugin.ts";

export interface SimArgs {
  size: number;
  prefix: string;
}

/** Reads --pdus and --prefix (also --pdus=N); everything else is left to the configuration. */
export function parseSimArgs(argv: string[]): SimArgs {
  let size = 4;
  let prefix = "pdu";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (flag !== "--pdus" && flag !== "--prefix") continue;
    const value = inline ?? argv[++i];
    if (value === undefined)
      throw new FleetError(flag === "--pdus" ? "fleet-size" : "fleet-prefix", `${flag} needs a value`);
    if (flag === "--pdus") size = /^\d+$/.test(value) ? Number(value) : NaN;
    else prefix = value;
  }
  fleetIds(size, prefix); // validates both
  return { size, prefix };
}

/** The extensions each simulated PDU runs, as `pipdu pdu` runs them for a real one. */
export function simFleetPlugins(): (settings: Settings) => AgentPlugin[] {
  return () => homeAssistantPlugins();
}

export async function runSimFleet(
  settings: Settings,
  logger: Logger,
  argv: string[],
): Promise<() => Promise<void>> {
  const { size, prefix } = parseSimArgs(argv);
  const fleet = new SimFleet({ settings, size, prefix, logger, plugins: simFleetPlugins() });
  await fleet.start();
  const first = fleet.ids[0] ?? "";
  const last = fleet.ids[fleet.ids.length - 1] ?? "";
  console.log(
    [
      `piPDU simulated fleet: ${size} PDUs (${first}${size > 1 ? ` … ${last}` : ""}), ${size * settings.pdu.outletCount} outlets, on ${settings.mqtt.url}.`,
      `  switch: mosquitto_pub -t ${settings.mqtt.baseTopic}/${last}/outlet/1/set -m ON`,
    ].join("\n"),
  );
  return () => fleet.stop();
}

// A simulated fleet: N complete pdu-agents (pdu01, pdu02, …) in one process against one broker, for demos,
// rack-sized tests and benchmarks. Each PDU has its own simulated firmware, state directory, command queue
// and MQTT client, exactly as N separate Raspberry Pis would.
import path from "node:path";
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/logger.ts";
import type { PduAgent } from "./agent.ts";
import { createAgent } from "./create-agent.ts";
import { createSimulatedPdu } from "./hardware/sim/simulated-pdu.ts";
import type { AgentPlugin } from "./plugin.ts";

export const MAX_FLEET_SIZE = 999;

export interface FleetOptions {
  /** Shared settings; pdu.id, pdu.name and stateDir are set per PDU. */
  settings: Settings;
  size: number;
  logger: Logger;
  /** Id prefix: "pdu" gives pdu01, pdu02, … */
  prefix?: string;
  /** Extensions per PDU (Home Assistant discovery, …), made for each PDU's own settings. */
  plugins?: (settings: Settings) => AgentPlugin[];
  /** PDUs connecting at the same time; keeps a large fleet from flooding the broker with CONNECTs. */
  startConcurrency?: number;
}

export class FleetError extends Error {
  constructor(
    readonly code: "fleet-size" | "fleet-prefix",
    message: string,
  ) {
    super(message);
    this.name = "FleetError";
  }
}

/** pdu01 … pdu64: zero-padded to at least two digits so ids sort in order. */
export function fleetIds(size: number, prefix = "pdu"): string[] {
  if (!Number.isInteger(size) || size < 1 || size > MAX_FLEET_SIZE) {
    throw new FleetError(
      "fleet-size",
      `fleet size must be a whole number from 1 to ${MAX_FLEET_SIZE}, got ${String(size)}`,
    );
  }
  if (!/^[a-z0-9_-]{1,60}$/.test(prefix)) {
    throw new FleetError(
      "fleet-prefix",
      `fleet id prefix must be 1 to 60 of a-z, 0-9, _ and -, got "${prefix}"`,
    );
  }
  const width = Math.max(2, String(size).length);
  return Array.from({ length: size }, (_, i) => `${prefix}${String(i + 1).padStart(width, "0")}`);
}

export class SimFleet {
  readonly ids: string[];
  private readonly agents: PduAgent[] = [];

  constructor(private readonly options: FleetOptions) {
    this.ids = fleetIds(options.size, options.prefix);
  }

  /** Settings of one PDU of the fleet: its own id, name and state directory. */
  settingsFor(id: string, index: number): Settings {
    const { settings } = this.options;
    return {
      ...settings,
      stateDir: path.join(settings.stateDir, "fleet", id),
      pdu: { ...settings.pdu, id, name: `${settings.pdu.name} ${String(index + 1).padStart(2, "0")}` },
      hardware: "sim",
    };
  }

  /** Starts every PDU; resolves when each is connected and has announced itself. */
  async start(): Promise<void> {
    const concurrency = Math.max(1, this.options.startConcurrency ?? 16);
    let next = 0;
    const startOne = async (): Promise<void> => {
      while (next < this.ids.length) {
        const index = next++;
        const id = this.ids[index] ?? "";
        const settings = this.settingsFor(id, index);
        const sim = createSimulatedPdu({
          stateDir: settings.stateDir,
          outletCount: settings.pdu.outletCount,
          outlets: settings.outlets,
          voltage: settings.mains.voltage,
          powerFactor: settings.mains.powerFactor,
          address: settings.i2c.address,
        });
        const logger = this.options.logger.child({ pdu: id });
        const agent = await createAgent({
          settings,
          controller: sim.controller,
          logger,
          plugins: this.options.plugins?.(settings) ?? [],
        });
        await agent.start();
        this.agents.push(agent);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, this.ids.length) }, startOne));
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops every PDU: each publishes offline; relays stay as they are. */
  async stop(): Promise<void> {
    const agents = this.agents.splice(0);
    const results = await Promise.allSettled(agents.map((agent) => agent.stop()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  }
}

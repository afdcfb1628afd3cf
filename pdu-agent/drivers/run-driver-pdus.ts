// Runs every driver-backed PDU as its own pdu-agent (queue, results, MQTT contract, plugins such as Home
// Assistant discovery). A device that does not answer at start-up is tried again later; it never holds up
// the others or the rest of piPDU.
import type { Settings } from "../../config/settings.ts";
import type { Logger } from "../../log/logger.ts";
import type { PduAgent } from "../agent.ts";
import { createAgent } from "../create-agent.ts";
import type { AgentPlugin } from "../plugin.ts";
import { driverPdusFromSettings, type DriverPdu } from "./driver-pdus.ts";

const RETRY_START_MS = 30_000;

export { driverPdusFromSettings };

/**
 * Starts the PDUs from driverPdusFromSettings() without waiting for their devices (one that does not answer
 * would hold back what starts after, such as the gateway); resolves with the function that stops them all.
 */
export function runDriverPdus(
  pdus: DriverPdu[],
  logger: Logger,
  plugins: (settings: Settings) => AgentPlugin[],
  retryStartMs = RETRY_START_MS,
): Promise<() => Promise<void>> {
  const agents: PduAgent[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const starting = new Set<Promise<void>>();
  let stopping = false;

  const start = async (pdu: DriverPdu): Promise<void> => {
    try {
      const agent = await createAgent({
        settings: pdu.settings,
        controller: pdu.controller,
        logger: logger.child({ pdu: pdu.pduId }),
        plugins: plugins(pdu.settings),
      });
      await agent.start();
      agents.push(agent);
      if (!stopping)
        logger.info(`PDU "${pdu.hostname}" (${pdu.driver}) is ${pdu.pduId} on MQTT`, {
          component: "drivers",
        });
    } catch (err) {
      // The device is read before the agent connects, so a failed start holds nothing but the controller,
      // which the next attempt reuses (or the stop closes).
      if (stopping) return;
      logger.warn(
        `PDU "${pdu.hostname}" (${pdu.driver}) did not start: ${(err as Error).message}; trying again in ${retryStartMs / 1000} s`,
        { component: "drivers" },
      );
      const timer = setTimeout(() => {
        timers.delete(timer);
        track(pdu);
      }, retryStartMs);
      timers.add(timer);
    }
  };
  const track = (pdu: DriverPdu): void => {
    const run = start(pdu).finally(() => starting.delete(run));
    starting.add(run);
  };
  pdus.forEach(track);

  return Promise.resolve(async () => {
    stopping = true;
    for (const timer of timers) clearTimeout(timer);
    // A start under way ends within its driver's timeouts; its agent is then stopped with the others.
    await Promise.allSettled([...starting]);
    const running = new Set(agents.map((agent) => agent.pduId));
    await Promise.allSettled([
      ...agents.splice(0).map((agent) => agent.stop()),
      ...pdus.filter((pdu) => !running.has(pdu.pduId)).map((pdu) => pdu.controller.close()),
    ]);
  });
}

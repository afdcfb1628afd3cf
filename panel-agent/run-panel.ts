// `pipdu panel` (and the simulated panel inside `pipdu start`): run the panel-agent, print where it is.
import type { Settings } from "../config/load.ts";
import type { Logger } from "../log/logger.ts";
import { PanelAgent } from "./agent.ts";

export async function runPanel(settings: Settings, logger: Logger): Promise<() => Promise<void>> {
  const agent = new PanelAgent({ settings, logger });
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(() => undefined);
    throw err;
  }
  if (agent.simUrl !== null) console.log(`piPDU panel (simulated): ${agent.simUrl}`);
  return () => agent.stop();
}

// What the pdu-agent runs for Home Assistant: device discovery. The values its entities read (states,
// readings, totals, diagnostics, power-on behaviour) are the agent's own core topics.
import type { AgentPlugin } from "../pdu-agent/plugin.ts";
import { HomeAssistantDiscovery, type DiscoveryOptions } from "./discovery-plugin.ts";

export function homeAssistantPlugins(options: DiscoveryOptions = {}): AgentPlugin[] {
  return [new HomeAssistantDiscovery(options)];
}

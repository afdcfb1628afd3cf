// What the pdu-agent runs for Home Assistant: discovery first (so entities exist before their states),
// then the values its entities read that the core agent does not publish.
import type { AgentPlugin } from "../pdu-agent/plugin.ts";
import { HomeAssistantDiscovery, type DiscoveryOptions } from "./discovery-plugin.ts";
import { PduReadings } from "./pdu-readings.ts";
import { PowerOnBehavior } from "./power-on-behavior.ts";

export function homeAssistantPlugins(options: DiscoveryOptions = {}): AgentPlugin[] {
  return [new HomeAssistantDiscovery(options), new PduReadings(), new PowerOnBehavior()];
}

// `pipdu ha remove`: take a decommissioned PDU out of Home Assistant. An empty retained payload on the
// device discovery topic makes HA delete the device and all its entities; the broker forgets the config.
import type { Settings } from "../config/settings.ts";
import { connectMqtt } from "../lib/mqtt-connect.ts";
import type { Logger } from "../log/logger.ts";
import { Topics } from "../protocol/topics.ts";
import { discoveryTopic } from "./discovery-payload.ts";
import { DiscoveryStore } from "./discovery-store.ts";

/** Clears the discovery topic for this configuration, and the one last published if it differs. Returns the topics cleared. */
export async function removeDiscovery(
  settings: Settings,
  logger: Logger,
  timeoutMs = 15_000,
): Promise<string[]> {
  const topics = new Topics(settings.mqtt.baseTopic);
  const store = new DiscoveryStore(settings.stateDir, settings.pdu.id);
  const cleared = [discoveryTopic(settings.ha.discoveryPrefix, topics, settings.pdu.id)];
  const previous = (await store.load())?.topic;
  if (previous !== undefined && !cleared.includes(previous)) cleared.push(previous);
  const { mqtt } = settings;
  const client = await connectMqtt({
    url: mqtt.url,
    clientId: `pipdu-${settings.pdu.id}-ha-remove`,
    protocol: mqtt.protocol,
    username: mqtt.username,
    password: mqtt.password,
    caFile: mqtt.caFile,
    logger,
    signal: AbortSignal.timeout(timeoutMs),
  });
  try {
    for (const topic of cleared) await client.publishAsync(topic, "", { qos: 1, retain: true });
  } finally {
    await client.endAsync();
  }
  await store.clear();
  return cleared;
}

/** The CLI face of removeDiscovery: exit status and one line per topic. */
export async function runHaRemove(settings: Settings, logger: Logger): Promise<number> {
  try {
    const cleared = await removeDiscovery(settings, logger);
    for (const topic of cleared) console.log(`cleared ${topic}`);
    if (settings.ha.discovery) {
      console.log(
        "Home Assistant removes the device now. A pdu-agent started again with ha.discovery on (PIPDU_HA_DISCOVERY) announces it again.",
      );
    }
    return 0;
  } catch (err) {
    console.error(`pipdu ha remove: ${(err as Error).message} (broker ${settings.mqtt.url})`);
    return 1;
  }
}

// Compose the parts for each way of running piPDU. Each returns its stop function.
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import path from "node:path";
import type { Settings } from "../config/load.ts";
import type { Logger } from "../log/logger.ts";

type Stop = () => Promise<void>;

// Parts are imported when they run, so a process loads only what it uses (memory on a Pi Zero).
const loadBroker = async () => (await import("../broker/embedded-broker.ts")).EmbeddedBroker;

/** The embedded broker's options from the configuration: listeners, persistence, users, ACL, TLS. */
function brokerOptions(settings: Settings, logger: Logger, standalone: boolean) {
  const { broker: b } = settings;
  const { port: tlsPort, certFile, keyFile } = b.tls;
  return {
    host: b.host,
    port: b.port,
    wsPort: b.wsPort === 0 ? null : b.wsPort,
    wsOrigins: b.wsOrigins,
    retainTopics: b.retainTopics,
    maximumPacketSize: b.maxPacketSize,
    connections: { total: b.maxConnections, perAddress: b.maxConnectionsPerAddress },
    stateDir: path.join(settings.stateDir, "broker"),
    logger,
    passwordFile: b.passwordFile,
    aclFile: b.aclFile,
    allowAnonymous: b.allowAnonymous,
    tls: tlsPort !== 0 && certFile !== null && keyFile !== null ? { port: tlsPort, certFile, keyFile } : null,
    // Only piPDU's parts speak for a PDU: those in this process, and users named as parts.
    parts: {
      enforce: standalone || b.partUsers.length > 0,
      baseTopic: settings.mqtt.baseTopic,
      discoveryPrefix: settings.ha.discoveryPrefix,
      haStatusTopic: settings.ha.statusTopic,
      partUsers: b.partUsers,
      reservedClientIds: standalone ? [`pipdu-${settings.pdu.id}`] : [],
    },
  };
}

export async function runBroker(settings: Settings, logger: Logger): Promise<Stop> {
  const { broker: b } = settings;
  const EmbeddedBroker = await loadBroker();
  const broker = new EmbeddedBroker(brokerOptions(settings, logger, false));
  const address = await broker.start();
  const tls = address.tlsPort == null ? "" : `, mqtts://${b.host}:${address.tlsPort}`;
  console.log(
    `piPDU broker: mqtt://${b.host}:${address.port}${address.wsPort === null ? "" : `, ws://${b.host}:${address.wsPort}`}${tls}`,
  );
  return () => broker.stop();
}

/**
 * The gateway's page as other machines reach it: its listen address, or for 0.0.0.0 this host's first LAN
 * address (a bare host name often does not resolve on the clients, Home Assistant's browser among them).
 */
export function pageUrl(
  host: string,
  port: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string {
  let address = host;
  if (host === "0.0.0.0" || host === "::") {
    const lan = Object.values(interfaces)
      .flatMap((list) => list ?? [])
      .find((a) => a.family === "IPv4" && !a.internal);
    address = lan?.address ?? "127.0.0.1";
  }
  return `http://${address.includes(":") ? `[${address}]` : address}:${port}/`;
}

/** configurationUrl: the web page Home Assistant links the device to; ha.configurationUrl wins when set. */
export async function runPdu(
  settings: Settings,
  logger: Logger,
  configurationUrl: string | null = null,
): Promise<Stop> {
  const { createController } = await import("../pdu-agent/hardware/create-controller.ts");
  const { createAgent } = await import("../pdu-agent/create-agent.ts");
  const link = settings.ha.configurationUrl ?? configurationUrl;
  // PDUs behind drivers (PIPDU_PDUDAEMON_CONFIG, pdudaemon.pdus), each its own agent beside this one; read
  // first, so an unreadable PDUDaemon file stops start-up before anything runs.
  const { driverPdusFromSettings, runDriverPdus } = await import("../pdu-agent/drivers/run-driver-pdus.ts");
  const driverPdus = await driverPdusFromSettings(settings, logger);
  const controller = await createController(settings, logger);
  const { homeAssistantPlugins } = await import("../homeassistant/plugins.ts");
  let agent: Awaited<ReturnType<typeof createAgent>>;
  try {
    agent = await createAgent({
      settings,
      controller,
      logger,
      plugins: homeAssistantPlugins({ configurationUrl: link }),
    });
    await agent.start();
  } catch (err) {
    await controller.close();
    await Promise.allSettled(driverPdus.map((pdu) => pdu.controller.close()));
    throw err;
  }
  const stopDrivers = await runDriverPdus(driverPdus, logger, () =>
    homeAssistantPlugins({ configurationUrl: link }),
  );
  return async () => {
    await stopDrivers();
    await agent.stop();
  };
}

/** Embedded broker (when enabled) + pdu-agent; the agent talks to the embedded broker. */
export async function runStandalone(settings: Settings, logger: Logger): Promise<Stop> {
  const stops: Stop[] = [];
  let pduSettings = settings;
  if (settings.broker.enabled) {
    const { broker: b } = settings;
    const EmbeddedBroker = await loadBroker();
    const broker = new EmbeddedBroker(brokerOptions(settings, logger, true));
    const address = await broker.start();
    const local = b.host === "0.0.0.0" || b.host === "::" ? "127.0.0.1" : b.host;
    const url = `mqtt://${local}:${address.port}`;
    // The parts in this process connect over in-memory streams (MQTT 5): an identity no network client has.
    const { useInProcessBroker } = await import("../lib/mqtt-connect.ts");
    const forget = useInProcessBroker(url, () => broker.connectInProcess());
    stops.push(async () => {
      forget();
      await broker.stop();
    });
    pduSettings = { ...settings, mqtt: { ...settings.mqtt, url } };
  }
  try {
    const page =
      settings.gateway.enabled && settings.http.port !== 0
        ? pageUrl(settings.gateway.host, settings.http.port)
        : null;
    stops.unshift(await runPdu(pduSettings, logger, page));
  } catch (err) {
    for (const stop of stops) await stop();
    throw err;
  }
  if (settings.panel.enabled) {
    // The simulated front panel (a web page) on the same broker; a real panel runs as `pipdu panel`.
    const { runPanel } = await import("../panel-agent/run-panel.ts");
    try {
      stops.unshift(await runPanel({ ...pduSettings, panel: { ...settings.panel, driver: "sim" } }, logger));
    } catch (err) {
      for (const stop of stops) await stop();
      throw err;
    }
  }
  let page: string | null = null;
  if (settings.gateway.enabled) {
    // Web page, REST API, PDUDaemon API and /metrics for every PDU on this broker.
    const { Gateway, pageUrl } = await import("../gateway/gateway.ts");
    const gateway = new Gateway({ settings: pduSettings, logger });
    try {
      const address = await gateway.start();
      stops.unshift(() => gateway.stop());
      page = `  page:   ${pageUrl(settings.gateway.host, address.httpPort)}  (PDUDaemon API on port ${address.pdudaemonPort})`;
    } catch (err) {
      for (const stop of stops) await stop();
      throw err;
    }
  }
  const { id } = settings.pdu;
  const base = settings.mqtt.baseTopic;
  console.log(
    [
      `piPDU "${id}" is running (${pduSettings.mqtt.url}).`,
      ...(page === null ? [] : [page]),
      `  watch:  mosquitto_sub -h 127.0.0.1 -p ${new URL(pduSettings.mqtt.url).port || "1883"} -t '${base}/#' -v`,
      `  switch: mosquitto_pub -h 127.0.0.1 -p ${new URL(pduSettings.mqtt.url).port || "1883"} -t ${base}/${id}/outlet/3/set -m ON`,
    ].join("\n"),
  );
  return async () => {
    for (const stop of stops) await stop();
  };
}

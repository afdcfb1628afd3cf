// The gateway: one MQTT client that sees every PDU on the bus, and HTTP in front of it — the web page, the
// REST API, Prometheus /metrics on the web port, and the PDUDaemon API (HTTP and TCP) on its own port.
import { PACKAGE_ROOT } from "../lib/package-root.ts";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { MqttClient } from "mqtt";
import { PduDirectory } from "../client/pdu-directory.ts";
import type { Settings } from "../config/settings.ts";
import { connectMqtt } from "../lib/mqtt-connect.ts";
import type { Logger } from "../log/logger.ts";
import { Topics } from "../protocol/topics.ts";
import { normaliseAliases } from "./aliases.ts";
import { pdudaemonAliases } from "../config/pdudaemon-config.ts";
import { TokenCheck } from "./auth.ts";
import { createApp } from "./http-app.ts";
import { LiveEvents } from "./live-events.ts";
import { GatewayMetrics } from "./metrics.ts";
import { OutletCommands } from "./outlet-commands.ts";
import { PdudaemonHttp } from "./pdudaemon-http.ts";
import { PdudaemonListener, type ListenerTimings } from "./pdudaemon-listener.ts";
import { PdudaemonService } from "./pdudaemon-service.ts";
import { RestApi } from "./rest-api.ts";
import { StaticFiles } from "./static-files.ts";

// The package root, from the sources or from dist/ alike (the static files are found in both).
const ROOT = PACKAGE_ROOT;

export interface GatewayOptions {
  settings: Settings;
  logger: Logger;
  /** Slow-client limits; tests shorten them. */
  timings?: Partial<ListenerTimings & { headersTimeoutMs: number }>;
}

export interface GatewayAddress {
  httpPort: number;
  pdudaemonPort: number;
}

export class Gateway {
  private client: MqttClient | null = null;
  private directory: PduDirectory | null = null;
  private server: http.Server | null = null;
  private listener: PdudaemonListener | null = null;
  private events: LiveEvents | null = null;
  private metrics: GatewayMetrics | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly options: GatewayOptions) {}

  async start(): Promise<GatewayAddress> {
    const { settings, logger } = this.options;
    const { mqtt, gateway } = settings;
    // A PDUDaemon config file's aliases, then piPDU's own (which win on a clash).
    const aliases = normaliseAliases({ ...(await pdudaemonAliases(settings)), ...gateway.aliases });
    this.client = await connectMqtt({
      url: mqtt.url,
      clientId: `pipdu-gateway-${randomBytes(4).toString("hex")}`,
      protocol: mqtt.protocol,
      username: mqtt.username,
      password: mqtt.password,
      caFile: mqtt.caFile,
      logger,
      signal: this.abort.signal,
    });
    const directory = new PduDirectory(this.client, new Topics(mqtt.baseTopic), "gateway");
    this.directory = directory;
    await directory.start();

    const tokens = new TokenCheck(gateway.token);
    const metrics = new GatewayMetrics(directory);
    this.metrics = metrics;
    metrics.start();
    const commands = new OutletCommands(directory, gateway.requestTimeout, metrics);
    const service = new PdudaemonService({
      directory,
      commands,
      tokens,
      aliases,
    });
    const events = new LiveEvents(directory);
    this.events = events;
    events.start();
    const app = createApp({
      pdudaemon: new PdudaemonHttp(service, directory, logger),
      rest: new RestApi({ directory, commands, tokens, version: packageVersion() }),
      events,
      metrics,
      files: new StaticFiles(path.join(ROOT, "gateway/public"), {
        "/api/openapi.yaml": path.join(ROOT, "docs/openapi.yaml"),
      }),
      logger,
    });
    const headersTimeout = this.options.timings?.headersTimeoutMs ?? 10_000;
    const server = http.createServer(
      {
        headersTimeout,
        requestTimeout: headersTimeout * 2,
        connectionsCheckingInterval: Math.min(1000, headersTimeout),
        maxHeaderSize: 8192,
      },
      app,
    );
    server.keepAliveTimeout = 5000;
    this.server = server;
    const httpPort = await listen(server, gateway.host, settings.http.port);
    // HTTP on the PDUDaemon port is handed to the same server, which also enforces its header timeouts there.
    this.listener = new PdudaemonListener({
      http: server,
      handleLine: (request, peer) => service.handle("pdudaemon-tcp", request, peer),
      logger,
      ...(this.options.timings ? { timings: this.options.timings } : {}),
    });
    let pdudaemonPort: number;
    try {
      pdudaemonPort = await this.listener.start(gateway.host, settings.pdudaemon.port);
    } catch (err) {
      await this.stop();
      throw err;
    }
    logger.info(
      `gateway: web, REST and metrics on port ${httpPort}; PDUDaemon (HTTP and TCP) on port ${pdudaemonPort}${tokens.required ? "; switching needs the token" : ""}`,
      { component: "gateway" },
    );
    return { httpPort, pdudaemonPort };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.events?.stop();
    this.metrics?.stop();
    await this.listener?.stop();
    if (this.server) {
      const server = this.server;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.directory?.stop();
    await this.client?.endAsync();
  }
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.removeListener("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** `pipdu gateway`: the gateway alone, against the broker at mqtt.url. Returns its stop function. */
export async function runGateway(settings: Settings, logger: Logger): Promise<() => Promise<void>> {
  const gateway = new Gateway({ settings, logger });
  const { httpPort, pdudaemonPort } = await gateway.start();
  console.log(
    `piPDU gateway: ${pageUrl(settings.gateway.host, httpPort)} (PDUDaemon on port ${pdudaemonPort})`,
  );
  return () => gateway.stop();
}

/** The address a person can open: loopback when listening on every interface. */
export function pageUrl(host: string, port: number): string {
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${shown}:${port}/`;
}

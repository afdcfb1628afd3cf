// The panel-agent: a panel (LCD, buttons, LEDs) that is just another MQTT client. It comes up before the
// broker answers (the LCD says it is waiting) and follows the broker through every reconnect.
import fs from "node:fs";
import os from "node:os";
import { randomBytes } from "node:crypto";
import type { MqttClient } from "mqtt";
import type { Settings } from "../config/load.ts";
import type { Logger } from "../log/logger.ts";
import { gatewayAccess } from "../lib/gateway-access.ts";
import { splitHosts } from "../lib/http-guard.ts";
import { connectMqtt } from "../lib/mqtt-connect.ts";
import { MessageGuard } from "../lib/message-guard.ts";
import { PduDirectory } from "../client/pdu-directory.ts";
import { Topics } from "../protocol/topics.ts";
import { resolveButtons, type ButtonBinding } from "../config/panel-schema.ts";
import { createPanelDriver, type CreatedDriver } from "./drivers/create-driver.ts";
import { Panel } from "./panel.ts";
import { SimServer } from "./sim/sim-server.ts";

/** How often gestures, blinking and screen time-outs are evaluated. */
const TICK_MS = 20;

export interface PanelAgentDeps {
  settings: Settings;
  logger: Logger;
}

export class PanelAgent {
  private driver: CreatedDriver | null = null;
  private panel: Panel | null = null;
  private sim: SimServer | null = null;
  private client: MqttClient | null = null;
  private directory: PduDirectory | null = null;
  private timer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  private buttons: ButtonBinding[] = [];
  /** The simulated panel's page, when the driver is "sim". */
  simUrl: string | null = null;

  constructor(private readonly deps: PanelAgentDeps) {}

  async start(): Promise<void> {
    const { settings, logger } = this.deps;
    const { panel: p } = settings;
    this.buttons = resolveButtons(p, settings.pdu.id, settings.pdu.outletCount);
    const driver = await createPanelDriver(p, this.buttons.length, logger);
    this.driver = driver;
    const broker = new URL(settings.mqtt.url);
    const panel = new Panel({
      display: driver.display,
      keypad: driver.keypad,
      logger,
      options: {
        buttons: this.buttons,
        shortPressMs: p.shortPressMs,
        longPressMs: p.longPressMs,
        protectedHoldMs: p.protectedHoldMs,
        debounceMs: p.debounceMs,
        screenSeconds: p.screenSeconds,
        locked: p.locked,
        offlineLeds: p.offlineLeds,
        brokerLabel: broker.host,
        footer: localAddress() ?? broker.host,
      },
    });
    this.panel = panel;
    panel.setConnected(false);
    await driver.keypad.start((index, pressed) => panel.input(index, pressed));
    // A failing tick is a bug: logged with its stack (rate-limited), never the end of the panel.
    const ticks = new MessageGuard(logger, "panel");
    this.timer = setInterval(() => ticks.guard("tick", () => panel.tick()), TICK_MS);
    const hardware = realHardware(settings);
    if (driver.sim && hardware !== null) {
      // Its page switches real outlets with no one at the rack: never on a machine with PDU hardware.
      logger.warn(`panel: the simulated panel's page is not started: ${hardware}`, { component: "panel" });
    } else if (driver.sim) {
      const access = await gatewayAccess(settings);
      this.sim = new SimServer(driver.sim, () => this.labels(), p.debounceMs + 2 * TICK_MS, {
        token: access.token,
        hosts: splitHosts(settings.gateway.hosts),
        logger,
      });
      this.simUrl = (await this.sim.start(p.host, p.port)).url;
    }
    logger.info(
      `panel: ${driver.description}${this.simUrl ? ` at ${this.simUrl}` : ""}; ${this.buttons.length} buttons${p.locked ? ", locked" : ""}`,
      { component: "panel" },
    );
    this.connecting = this.connect().catch((err: unknown) => {
      if (!this.abort.signal.aborted)
        logger.error(`panel: MQTT: ${(err as Error).message}`, { component: "panel" });
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.connecting;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.directory?.stop();
    await this.client?.endAsync().catch(() => undefined);
    await this.sim?.stop();
    await this.panel?.settled();
    await this.driver?.close();
  }

  private async connect(): Promise<void> {
    const { settings, logger } = this.deps;
    const source = `panel-${os
      .hostname()
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, "")}`.slice(0, 40);
    const client = await connectMqtt({
      url: settings.mqtt.url,
      clientId: `pipdu-${source}-${randomBytes(3).toString("hex")}`,
      protocol: settings.mqtt.protocol,
      username: settings.mqtt.username,
      password: settings.mqtt.password,
      caFile: settings.mqtt.caFile,
      logger,
      signal: this.abort.signal,
    });
    if (this.abort.signal.aborted) {
      await client.endAsync(true);
      return;
    }
    this.client = client;
    const directory = new PduDirectory(client, new Topics(settings.mqtt.baseTopic), {
      source,
      commandSource: `panel ${source.slice("panel-".length)}`,
      logger,
      component: "panel",
    });
    this.directory = directory;
    await directory.start();
    const panel = this.panel;
    if (!panel) return;
    panel.setSource(directory);
    panel.setConnected(true);
    client.on("connect", () => {
      logger.info("panel: broker back", { component: "panel" });
      panel.setConnected(true);
    });
    client.on("close", () => {
      if (client.connected) return;
      panel.setConnected(false);
    });
    client.on("offline", () => panel.setConnected(false));
  }

  private labels(): { button: number; pdu: string; outlet: number; name: string }[] {
    return this.buttons.map((b, i) => ({
      button: i + 1,
      pdu: b.pdu,
      outlet: b.outlet,
      name: this.directory?.get(b.pdu)?.outlets.get(b.outlet)?.name ?? `Outlet ${b.outlet}`,
    }));
  }
}

/** Why this machine has PDU hardware (hardware = i2c, or auto with the I2C bus present), or null. */
function realHardware(settings: Settings): string | null {
  if (settings.hardware === "i2c") return "hardware is i2c";
  const bus = `/dev/i2c-${settings.i2c.bus}`;
  if (settings.hardware === "auto" && fs.existsSync(bus)) return `hardware is auto and ${bus} exists`;
  return null;
}

/** The first non-internal IPv4 address: where a person finds this panel's host. */
function localAddress(): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return null;
}

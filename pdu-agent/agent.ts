// The pdu-agent: owns the hardware, polls it, integrates energy, and serves the MQTT contract.
// Starting or stopping it never switches an outlet: relay state is read from the firmware, never written on start.
import type { MqttClient } from "mqtt";
import type { Settings } from "../config/load.ts";
import type { Logger } from "../log/logger.ts";
import { connectMqtt } from "../lib/mqtt-connect.ts";
import { realSleep, type Sleep } from "../lib/sleep.ts";
import type { CommandLimits } from "../protocol/commands.ts";
import type { InfoPayload, TelemetryPayload } from "../protocol/payloads.ts";
import { Topics } from "../protocol/topics.ts";
import { CommandExecutor } from "./command-executor.ts";
import { CommandQueue } from "./command-queue.ts";
import { EnergyAccount } from "./energy-account.ts";
import type { HardwareInfo, OutletController } from "./hardware/outlet-controller.ts";
import { MqttBridge } from "./mqtt-bridge.ts";
import { runPduCommand } from "./pdu-command-runner.ts";
import { COLD_START_ID_BASE, ColdStartWatch } from "./cold-start.ts";
import { ReadingsPublisher, type Readings } from "./readings-publisher.ts";
import type { AgentContext, AgentPlugin } from "./plugin.ts";
import { SafetyMonitor } from "./safety-monitor.ts";
import { AGENT_VERSION, buildInfo, buildTelemetry } from "./snapshot.ts";

export { AGENT_VERSION };
/** Consecutive failed hardware polls before the PDU is reported offline. */
const LINK_FAILURES_OFFLINE = 3;

export interface AgentDeps {
  settings: Settings;
  controller: OutletController;
  logger: Logger;
  sleep?: Sleep;
  plugins?: AgentPlugin[];
}

export class PduAgent {
  private readonly settings: Settings;
  private readonly topics: Topics;
  private readonly queue = new CommandQueue();
  private readonly executor: CommandExecutor;
  private readonly readings: ReadingsPublisher;
  private readonly energy: EnergyAccount;
  /** Counters as last saved: only these are published, so a crash never takes a published counter back. */
  private hardware: HardwareInfo | null = null;
  private client: MqttClient | null = null;
  private bridge: MqttBridge | null = null;
  private states: boolean[] = [];
  private currents: number[] = [];
  private pollTimer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();
  private linkFailures = 0;
  /** Bumped on every command-driven change, so a poll that raced a command does not publish stale states. */
  private stateVersion = 0;
  private online = false;
  private readonly abort = new AbortController();
  private readonly startedAt = Date.now();
  private readonly plugins: AgentPlugin[];
  private safety: SafetyMonitor | null = null;
  private readonly coldStart: ColdStartWatch;

  constructor(private readonly deps: AgentDeps) {
    this.settings = deps.settings;
    this.topics = new Topics(deps.settings.mqtt.baseTopic);
    this.readings = new ReadingsPublisher(deps.settings);
    this.coldStart = new ColdStartWatch(deps.controller);
    this.energy = new EnergyAccount(deps.settings.stateDir, deps.settings.pdu.id, deps.logger);
    this.plugins = deps.plugins ?? [];
    this.executor = new CommandExecutor({
      controller: deps.controller,
      queue: this.queue,
      sleep: deps.sleep ?? realSleep,
      isProtected: (n) => this.settings.outlets[n - 1]?.protected === true,
      onStates: (states) => this.onStates(states),
      refuseOn: (n) => this.safety?.refuseOn(n) ?? null,
      onPending: () => void this.publishPending(),
    });
  }

  get pduId(): string {
    return this.settings.pdu.id;
  }

  async start(): Promise<void> {
    const { controller, logger } = this.deps;
    this.hardware = await controller.describe();
    if (this.hardware.outletCount < this.settings.pdu.outletCount) {
      logger.warn(
        `firmware reports ${this.hardware.outletCount} outlets, configuration says ${this.settings.pdu.outletCount}`,
        { component: "agent" },
      );
    }
    this.states = (await controller.readRelays()).slice(0, this.outletCount);
    await this.coldStart.refresh(true).catch(() => false);
    this.currents = new Array<number>(this.outletCount).fill(0);
    this.safety = new SafetyMonitor(this.settings, this.outletCount, {
      alarm: (state) => {
        logger.warn(
          `overload ${state.active ? "raised" : "cleared"}: ${state.current.toFixed(2)} A of ${state.limit} A`,
          { component: "safety" },
        );
        void this.bridge?.publishJson(this.topics.alarm(this.pduId), state, true);
      },
      fault: (outlet, fault) => {
        if (fault !== "none")
          logger.warn(`outlet ${outlet}: ${fault.replace("_", " ")}`, { component: "safety" });
        void this.bridge?.publishRaw(this.topics.fault(this.pduId, outlet), fault, true);
      },
      shed: (outlets) => void this.shed(outlets),
    });
    this.energy.open(this.outletCount, Math.max(5000, 5 * this.settings.telemetry.interval * 1000));
    logger.info(
      `${this.hardware.kind} firmware ${this.hardware.firmwareVersion}, ${this.outletCount} outlets, on: ${this.onList() || "none"} (read from hardware, not switched)`,
      { component: "agent" },
    );

    const { mqtt } = this.settings;
    this.client = await connectMqtt({
      url: mqtt.url,
      clientId: `pipdu-${this.pduId}`,
      protocol: mqtt.protocol,
      username: mqtt.username,
      password: mqtt.password,
      caFile: mqtt.caFile,
      will: { topic: this.topics.availability(this.pduId), payload: "offline", retain: true, qos: 1 },
      logger,
      signal: this.abort.signal,
    });
    this.bridge = new MqttBridge({
      client: this.client,
      topics: this.topics,
      pduId: this.pduId,
      limits: () => this.limits(),
      executor: this.executor,
      pduCommand: (command) =>
        runPduCommand(this.executor, this.settings, this.outletCount, command, (filter) =>
          this.cancelColdStart(filter),
        ),
      logger,
    });
    await this.bridge.start();
    for (const plugin of this.plugins) await plugin.start(this.context(this.client));
    this.client.on("connect", () => void this.announce());
    this.client.on("offline", () =>
      logger.warn("broker connection lost; reconnecting", { component: "mqtt" }),
    );
    await this.poll();
    // If the connection drops meanwhile, start-up is done anyway: the next connect announces again.
    const client = this.client;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        client.off("close", done);
        resolve();
      };
      client.once("close", done);
      void this.announce().finally(done);
    });
    let busy = false;
    this.pollTimer = setInterval(() => {
      if (busy) return; // a slow link skips a tick rather than queueing polls behind each other
      busy = true;
      this.polling = this.poll().finally(() => (busy = false));
    }, this.settings.telemetry.interval * 1000);
    this.saveTimer = setInterval(() => this.energy.save(), this.settings.energy.saveInterval * 1000);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.saveTimer) clearInterval(this.saveTimer);
    await this.executor.stop();
    await this.polling;
    this.energy.save();
    for (const plugin of this.plugins) await plugin.stop();
    if (this.client && this.bridge) {
      // With the broker unreachable nothing can be published: do not wait for one that may never return.
      if (this.client.connected) {
        const published = this.bridge.publishAvailability(false);
        await Promise.race([published, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      }
      this.bridge.stop();
      await this.client.endAsync(!this.client.connected);
    }
    await this.deps.controller.close();
    this.deps.logger.info("stopped; relays left as they are", { component: "agent" });
  }

  private context(client: MqttClient): AgentContext {
    return {
      client,
      topics: this.topics,
      settings: this.settings,
      logger: this.deps.logger,
      controller: this.deps.controller,
      startedAt: this.startedAt,
      info: () => this.info(),
      telemetry: () => this.telemetry(Date.now()),
      hardware: () => this.hardware,
      linkCounters: () => this.deps.controller.counters(),
      isOnline: () => this.online,
      republish: () => this.announce(),
      enqueue: (task) => this.queue.run(task),
    };
  }

  private get outletCount(): number {
    return Math.min(
      this.settings.pdu.outletCount,
      this.hardware?.outletCount ?? this.settings.pdu.outletCount,
    );
  }

  private limits(): CommandLimits {
    return {
      outletCount: this.outletCount,
      maxDelay: this.settings.commands.maxDelay,
      defaultCycleDelay: this.settings.commands.defaultCycleDelay,
    };
  }

  /** Everything a client needs after a (re)connect: availability, info, every value. */
  private async announce(): Promise<void> {
    if (!this.bridge) return;
    this.readings.reset();
    this.online = this.linkFailures < LINK_FAILURES_OFFLINE;
    for (const plugin of this.plugins) {
      await plugin.announce?.().catch((err: unknown) => {
        this.deps.logger.warn(`${plugin.name}: announce failed: ${(err as Error).message}`, {
          component: "agent",
        });
      });
    }
    const bridge = this.bridge;
    await Promise.all([bridge.publishAvailability(this.online), bridge.publishInfo(this.info())]);
    await this.publishReadings(Date.now());
    const safety = this.safety?.snapshot();
    await Promise.all([
      this.publishPending(),
      bridge.publishJson(this.topics.alarm(this.pduId), safety?.alarm ?? { active: false }, true),
      ...Array.from({ length: this.outletCount }, (_, i) =>
        bridge.publishRaw(this.topics.fault(this.pduId, i + 1), safety?.faults[i] ?? "none", true),
      ),
    ]);
  }

  private async poll(): Promise<void> {
    const { controller, logger } = this.deps;
    try {
      const version = this.stateVersion;
      const [states, currents] = [await controller.readRelays(), await controller.readCurrents()];
      if (version === this.stateVersion) this.states = states.slice(0, this.outletCount);
      // Real readings, also for off outlets: current through an open relay is a fault worth seeing.
      this.currents = currents.slice(0, this.outletCount);
      const now = Date.now();
      this.energy.add(now, this.powers());
      this.safety?.poll(now, this.currents, this.states);
      if (this.linkFailures >= LINK_FAILURES_OFFLINE) {
        logger.info("hardware link restored", { component: "agent" });
        this.linkFailures = 0;
        await this.announce();
        return;
      }
      this.linkFailures = 0;
      if (await this.coldStart.refresh().catch(() => false)) void this.publishPending();
      await this.publishReadings(now);
      if (this.plugins.length > 0) {
        const snapshot = this.telemetry(now);
        for (const plugin of this.plugins) plugin.polled?.(snapshot);
      }
    } catch (err) {
      this.linkFailures++;
      logger.warn(`hardware poll failed (${this.linkFailures} in a row): ${(err as Error).message}`, {
        component: "agent",
      });
      if (this.linkFailures === LINK_FAILURES_OFFLINE && this.bridge) {
        this.online = false;
        await this.bridge.publishAvailability(false);
      }
    }
  }

  private onStates(states: boolean[]): void {
    const changed = states.slice(0, this.outletCount);
    const now = Date.now();
    this.stateVersion++;
    changed.forEach((on, i) => {
      if (on === this.states[i]) return;
      if (!on) this.currents[i] = 0;
      this.safety?.switched(i + 1, now);
    });
    this.states = changed;
    if (this.bridge) this.readings.publishStates(this.bridge, this.states, now);
  }

  private async publishReadings(now: number): Promise<void> {
    if (!this.bridge || !this.online) return;
    await this.readings.publish(this.bridge, this.snapshotReadings(), now);
  }

  private snapshotReadings(): Readings {
    return {
      states: this.states,
      currents: this.currents,
      powers: this.powers(),
      energy: this.energy.saved(),
    };
  }

  private powers(): number[] {
    const { voltage, powerFactor } = this.settings.mains;
    return this.currents.map((a) => a * voltage * powerFactor);
  }

  private telemetry(now: number): TelemetryPayload {
    return buildTelemetry(this.settings, now, this.snapshotReadings());
  }

  private info(): InfoPayload {
    return buildInfo(this.settings, this.outletCount, this.hardware);
  }

  private publishPending(): Promise<unknown> {
    const pending = [...this.executor.pendingActions(), ...this.coldStart.actions()];
    return this.bridge?.publishJson(this.topics.pending(this.pduId), pending, true) ?? Promise.resolve();
  }

  /** Switching an outlet off explicitly is how the firmware cancels its pending cold-start step. */
  private async cancelColdStart(filter: { id?: number; outlet?: number }): Promise<number[]> {
    const ids: number[] = [];
    for (const outlet of this.coldStart.matching(filter)) {
      try {
        this.onStates(await this.queue.run(() => this.deps.controller.setRelay(outlet, false)));
        this.coldStart.cancelled(outlet);
        ids.push(COLD_START_ID_BASE + outlet);
      } catch (err) {
        this.deps.logger.warn(`cold start of outlet ${outlet} not cancelled: ${(err as Error).message}`, {
          component: "agent",
        });
      }
    }
    if (ids.length > 0) await this.publishPending();
    return ids;
  }

  /** Shed outlets on a sustained overload, through the queue like any command (protected ones never). */
  private async shed(outlets: number[]): Promise<void> {
    for (const outlet of outlets) {
      const result = await this.executor.execute({ outlet, action: "off", transaction: "overload-shed" });
      this.deps.logger.warn(`overload: shed outlet ${outlet}: ${result.status}`, { component: "safety" });
      await this.bridge?.publishResult(result);
    }
  }

  private onList(): string {
    return this.states.flatMap((on, i) => (on ? [String(i + 1)] : [])).join(", ");
  }
}

// The one place a pdu-agent is put together from settings and a controller (used by the CLI, the simulated
// fleet and the tests). Reads what the hardware is (never switching anything), then builds the state store,
// the command queue and executor, and the features in the order they start:
//   availability → commands (router + handlers) → readings → pending → safety → energy → cold start →
//   power-on behaviour → diagnostics → poll loop; plugins (Home Assistant discovery) after them.
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/logger.ts";
import { realSleep, type Sleep } from "../lib/sleep.ts";
import { Topics } from "../protocol/topics.ts";
import { PduAgent } from "./agent.ts";
import { Availability } from "./availability.ts";
import { ColdStartWatch } from "./cold-start.ts";
import { CommandExecutor } from "./command-executor.ts";
import { OutletCommandHandler, PduCommandHandler } from "./command-handlers.ts";
import { CommandQueue } from "./command-queue.ts";
import { CommandRouter, type CommandHandler } from "./command-router.ts";
import { Diagnostics } from "./diagnostics.ts";
import { EnergyAccount } from "./energy-account.ts";
import { ErrorSink } from "./error-sink.ts";
import type { OutletController } from "./hardware/outlet-controller.ts";
import { OutletStateStore } from "./outlet-state.ts";
import { PendingPublisher } from "./pending-publisher.ts";
import type { AgentPlugin } from "./plugin.ts";
import { PollLoop } from "./poll-loop.ts";
import { PowerOnBehavior } from "./power-on-behavior.ts";
import { Publisher } from "./publisher.ts";
import { ReadingsPublisher } from "./readings-publisher.ts";
import { SafetyMonitor } from "./safety-monitor.ts";
import { buildInfo } from "./snapshot.ts";

export interface CreateAgentOptions {
  settings: Settings;
  controller: OutletController;
  logger: Logger;
  sleep?: Sleep;
  plugins?: AgentPlugin[];
}

export async function createAgent(options: CreateAgentOptions): Promise<PduAgent> {
  const { settings, controller, logger } = options;
  const hardware = await controller.describe();
  if (hardware.outletCount < settings.pdu.outletCount) {
    logger.warn(
      `firmware reports ${hardware.outletCount} outlets, configuration says ${settings.pdu.outletCount}`,
      { component: "agent" },
    );
  }
  const outletCount = Math.min(settings.pdu.outletCount, hardware.outletCount);
  const pduId = settings.pdu.id;
  const topics = new Topics(settings.mqtt.baseTopic);
  const errors = new ErrorSink(logger);
  const store = new OutletStateStore(outletCount, (err) => errors.report("state listener", err));
  store.init(await controller.readRelays());
  const on = store.states().flatMap((s, i) => (s ? [String(i + 1)] : []));
  logger.info(
    `${hardware.kind} firmware ${hardware.firmwareVersion}, ${outletCount} outlets, on: ${on.join(", ") || "none"} (read from hardware, not switched)`,
    { component: "agent" },
  );

  const isProtected = (n: number): boolean => settings.outlets[n - 1]?.protected === true;
  const queue = new CommandQueue();
  const publisher = new Publisher(topics, pduId, logger);
  const info = () => buildInfo(settings, outletCount, hardware);
  let agent: PduAgent | null = null;
  const availability = new Availability(
    publisher,
    logger,
    errors,
    () => agent?.announce() ?? Promise.resolve(),
  );
  const isOnline = () => availability.online;
  let router: CommandRouter | null = null;
  const safety: SafetyMonitor = new SafetyMonitor({
    settings,
    store,
    publisher,
    logger,
    errors,
    executor: () => executor,
    publishResult: (result) => router?.publishResult(result) ?? Promise.resolve(),
  });
  const executor: CommandExecutor = new CommandExecutor({
    controller,
    queue,
    store,
    sleep: options.sleep ?? realSleep,
    isProtected,
    refuseOn: (n: number) => safety.refuseOn(n),
    maxPending: settings.commands.maxPending,
  });
  const energy = new EnergyAccount(settings, store, logger, errors);
  const coldStart = new ColdStartWatch(controller, store, queue, logger, errors);
  const powerOn = new PowerOnBehavior(
    controller,
    queue,
    publisher,
    topics,
    pduId,
    outletCount,
    isProtected,
    logger,
  );
  const limits = () => ({
    outletCount,
    maxDelay: settings.commands.maxDelay,
    defaultCycleDelay: settings.commands.defaultCycleDelay,
  });
  router = new CommandRouter({
    publisher,
    logger,
    errors,
    handlers: [
      new OutletCommandHandler(topics, pduId, limits, executor),
      new PduCommandHandler(settings, topics, outletCount, executor, coldStart, isProtected),
      powerOn,
    ] as CommandHandler[],
  });
  const commands = router;
  const readings = new ReadingsPublisher({
    settings,
    store,
    publisher,
    errors,
    energy: () => energy.saved(),
    isOnline,
  });
  const startedAt = Date.now();
  const diagnostics = new Diagnostics({
    settings,
    store,
    publisher,
    errors,
    counters: () => controller.counters(),
    dropped: () => commands.dropped,
    energyReset: () => energy.reset(),
    isOnline,
    startedAt,
  });
  const poll = new PollLoop(controller, store, availability, settings.telemetry.interval * 1000, errors);
  agent = new PduAgent({
    settings,
    controller,
    logger,
    store,
    executor,
    publisher,
    errors,
    availability,
    poll,
    features: [
      availability,
      router,
      readings,
      new PendingPublisher(store, publisher, errors),
      safety,
      energy,
      coldStart,
      powerOn,
      diagnostics,
      poll,
    ],
    plugins: options.plugins ?? [],
    info,
    coldStartPolicy: powerOn.supported,
    open: async () => {
      await energy.open();
      await coldStart.open();
    },
    close: () => Promise.resolve(),
  });
  return agent;
}

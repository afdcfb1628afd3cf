// Back at once after a reconnect: availability, info and every value are republished by the agent itself,
// whatever a plugin (Home Assistant discovery) is still doing, also when the broker lost its retained store.
import test from "ava";
import type { AgentContext, AgentPlugin } from "../../pdu-agent/plugin.ts";
import { collectMessages, connectClient } from "../helpers/mqtt-clients.ts";
import { BROKERS, eventually, startAgent, startBroker, testSettings } from "../helpers/system.ts";

const T = "pipdu/pdu1";

/** A discovery that takes as long as the test says: each announce waits for the gate to open. */
class SlowDiscovery implements AgentPlugin {
  readonly name = "slow-discovery";
  announces = 0;
  completed = 0;
  private open: () => void = () => undefined;
  private gate: Promise<void> = new Promise((resolve) => (this.open = resolve));
  private context: AgentContext | null = null;

  start(context: AgentContext): Promise<void> {
    this.context = context;
    return Promise.resolve();
  }
  async announce(): Promise<void> {
    this.announces++;
    await this.gate;
    await this.context?.client.publishAsync("homeassistant/device/pdu1/config", "{}", {
      qos: 1,
      retain: true,
    });
    this.completed++;
  }
  release(): void {
    this.open();
  }
  /** The next announce waits again. */
  close(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  stop(): Promise<void> {
    this.open();
    return Promise.resolve();
  }
}

for (const kind of BROKERS) {
  test(`[${kind}] after a broker restart that lost every retained message, online, info and every state are back while discovery is still running`, async (t) => {
    const broker = await startBroker(t, kind);
    const slow = new SlowDiscovery();
    const settings = testSettings(t, { mqtt: { url: broker.url }, pdu: { outletCount: 4 } });
    const startup = startAgent(t, settings, [slow]);
    await eventually("first announce under way", () => (slow.announces === 1 ? true : undefined));
    slow.release();
    await startup;
    slow.close(); // from now on discovery hangs until the test lets it finish

    await broker.restart({ loseRetained: true });
    const client = await connectClient(t, broker.url, { protocolVersion: 4 });
    const seen = collectMessages(client);
    await client.subscribeAsync(`${T}/#`, { qos: 1 });
    const topics = [
      `${T}/availability`,
      `${T}/info`,
      ...[1, 2, 3, 4].map((n) => `${T}/outlet/${n}/state`),
      `${T}/total/power`,
      `${T}/diagnostics`,
    ];
    await eventually("availability, info and every state republished", () =>
      topics.every((topic) => seen.some((m) => m.topic === topic)) ? true : undefined,
    );
    t.is(seen.filter((m) => m.topic === `${T}/availability`).at(-1)?.payload, "online");
    t.is(slow.announces, 2, "discovery was asked again on the reconnect …");
    t.is(slow.completed, 1, "… and has still not finished: nothing waited for it");
    slow.release();
    await eventually("discovery finishes afterwards", () => (slow.completed === 2 ? true : undefined));
  });
}

test("the core topics (totals, diagnostics, power-on behaviour, faults, alarm) are published without any plugin", async (t) => {
  const broker = await startBroker(t, "embedded");
  const client = await connectClient(t, broker.url, { protocolVersion: 4 });
  const seen = collectMessages(client);
  await client.subscribeAsync(`${T}/#`, { qos: 1 });
  await startAgent(t, testSettings(t, { mqtt: { url: broker.url }, pdu: { outletCount: 2 } }));
  const wanted = [
    `${T}/total/power`,
    `${T}/total/current`,
    `${T}/total/energy`,
    `${T}/diagnostics`,
    `${T}/outlet/1/power_on_behavior`,
    `${T}/outlet/2/power_on_behavior`,
    `${T}/outlet/1/fault`,
    `${T}/alarm`,
    `${T}/pending`,
  ];
  await eventually("every core topic", () =>
    wanted.every((topic) => seen.some((m) => m.topic === topic)) ? true : undefined,
  );
  const diagnostics = JSON.parse(seen.find((m) => m.topic === `${T}/diagnostics`)?.payload ?? "{}") as Record<
    string,
    unknown
  >;
  t.like(diagnostics, { linkErrors: 0, linkFailures: 0, errors: 0, dropped: 0 });
  t.true(
    ["off", "on", "last"].includes(
      seen.find((m) => m.topic === `${T}/outlet/1/power_on_behavior`)?.payload ?? "",
    ),
  );
});

for (const kind of BROKERS) {
  test(`[${kind}] a forged retained "offline" on the agent's availability topic is answered with "online" at once`, async (t) => {
    const broker = await startBroker(t, kind);
    await startAgent(t, testSettings(t, { mqtt: { url: broker.url } }));
    const attacker = await connectClient(t, broker.url, { protocolVersion: 4 });
    const seen = collectMessages(attacker);
    await attacker.subscribeAsync(`${T}/availability`, { qos: 1 });
    await eventually("online", () => (seen.at(-1)?.payload === "online" ? true : undefined));
    const from = seen.length;
    await attacker.publishAsync(`${T}/availability`, "offline", { qos: 1, retain: true });
    await eventually("re-asserted", () =>
      seen
        .slice(from)
        .map((m) => m.payload)
        .join(",") === "offline,online"
        ? true
        : undefined,
    );
    // What a client connecting now reads from the retained store:
    const late = await connectClient(t, broker.url, { protocolVersion: 4 });
    const lateSeen = collectMessages(late);
    await late.subscribeAsync(`${T}/availability`, { qos: 1 });
    await eventually("retained value", () => lateSeen[0]);
    t.is(lateSeen[0]?.payload, "online");
  });
}

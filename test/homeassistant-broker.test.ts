// Home Assistant discovery on real brokers (embedded and Mosquitto): everything under the prefix passes HA's
// rules, the birth message re-announces, removed components go, two PDUs never collide, the power-on
// behaviour select reaches the firmware's COLD_POLICY register, `pipdu ha remove` clears the device.
import test, { type ExecutionContext } from "ava";
import type { MqttClient } from "mqtt";
import { checkDiscoveryMessage } from "./helpers/discovery-rules.ts";
import { homeAssistantPlugins } from "../homeassistant/plugins.ts";
import { removeDiscovery } from "../homeassistant/remove-command.ts";
import { silentLogger } from "../log/logger.ts";
import { RegisterClient } from "../pdu-agent/hardware/register-client.ts";
import { DEFAULT_I2C_ADDRESS, Reg } from "../protocol/register-map.ts";
import { connectClient, type Received } from "./helpers/mqtt-clients.ts";
import {
  BROKERS,
  mosquittoPub,
  startAgent,
  startBroker,
  testSettings,
  type InProcessAgent,
} from "./helpers/system.ts";

const DISCOVERY = "homeassistant/device/pipdu_pdu1/config";
const plugins = (): ReturnType<typeof homeAssistantPlugins> =>
  homeAssistantPlugins({ birthDelay: { minMs: 20, spreadMs: 50 } });

/** A client that records every message on the filters, for asserting what arrived (and what did not). */
async function watch(
  t: ExecutionContext,
  url: string,
  filters: string[],
): Promise<{
  client: MqttClient;
  received: Received[];
  next: (topic: string, since?: number) => Promise<Received>;
}> {
  const client = await connectClient(t, url);
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  client.on("message", (topic, payload, packet) => {
    received.push({ topic, payload: payload.toString(), packet });
    for (const w of waiters.splice(0)) w();
  });
  await client.subscribeAsync([...filters, "test/settled"], { qos: 1 });
  const next = async (topic: string, since = 0): Promise<Received> => {
    for (;;) {
      const hit = received.slice(since).find((m) => m.topic === topic);
      if (hit) return hit;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { client, received, next };
}

/** Resolves once every retained copy the watcher's subscription brought has arrived (a sentinel round trip). */
async function settled(w: Awaited<ReturnType<typeof watch>>): Promise<void> {
  const mark = w.received.length;
  await w.client.publishAsync("test/settled", "x", { qos: 1 });
  await w.next("test/settled", mark);
}

/** The retained copy a newcomer (HA after a restart) gets; null when there is none. */
async function retained(t: ExecutionContext, url: string, topic: string): Promise<Received | null> {
  const client = await connectClient(t, url);
  const got = new Promise<Received>((resolve) =>
    client.on(
      "message",
      (tp, payload, packet) => tp === topic && resolve({ topic: tp, payload: payload.toString(), packet }),
    ),
  );
  // Sentinel instead of a timeout: the broker sends the retained copy on subscribing, before it routes a
  // message this client publishes afterwards to a topic it subscribed in the same request.
  const sentinel = `test/sentinel/${Math.random().toString(36).slice(2)}`;
  await client.subscribeAsync([topic, sentinel], { qos: 1 });
  const done = new Promise<null>((resolve) => client.on("message", (tp) => tp === sentinel && resolve(null)));
  await client.publishAsync(sentinel, "x", { qos: 1 });
  const result = await Promise.race([got, done]);
  await client.endAsync();
  return result;
}

function components(m: Received): Record<string, Record<string, unknown>> {
  return (JSON.parse(m.payload) as { components: Record<string, Record<string, unknown>> }).components;
}

const publishStatus = async (kind: string, url: string, port: number, t: ExecutionContext): Promise<void> => {
  if (kind === "mosquitto") return mosquittoPub(port, "homeassistant/status", "online");
  const c = await connectClient(t, url);
  await c.publishAsync("homeassistant/status", "online", { qos: 1 });
};

for (const kind of BROKERS) {
  test(`[${kind}] every message under the prefix passes Home Assistant's rules, retained, with totals and states published`, async (t) => {
    const broker = await startBroker(t, kind);
    const w = await watch(t, broker.url, ["homeassistant/#", "pipdu/#"]);
    const settings = testSettings(t, {
      mqtt: { url: broker.url },
      pdu: { name: "Rack PDU", outletCount: 4 },
      outlets: [{ name: "Rack PDU switch" }, { name: "NAS", protected: true }],
    });
    await startAgent(t, settings, plugins());
    const discovery = await w.next(DISCOVERY);
    await Promise.all([
      w.next("pipdu/pdu1/total/power"),
      w.next("pipdu/pdu1/total/energy"),
      w.next("pipdu/pdu1/diagnostics"),
      w.next("pipdu/pdu1/outlet/4/power_on_behavior"),
    ]);
    const uniqueIds = new Map<string, string>();
    for (const m of w.received.filter((r) => r.topic.startsWith("homeassistant/"))) {
      t.deepEqual(
        checkDiscoveryMessage(m.topic, m.payload, true, { prefix: "homeassistant", uniqueIds }),
        [],
      );
    }
    const copy = await retained(t, broker.url, DISCOVERY);
    t.truthy(copy);
    t.true(copy?.packet.retain);
    t.is(copy?.payload, discovery.payload);
    t.deepEqual(
      checkDiscoveryMessage(DISCOVERY, copy?.payload ?? "", copy?.packet.retain ?? false, {
        prefix: "homeassistant",
      }),
      [],
    );
    const c = components(discovery);
    t.is(c["outlet_1"]?.["name"], "switch");
    t.false("outlet_2_power_cycle" in c);
    t.is((await retained(t, broker.url, "pipdu/pdu1/outlet/3/power_on_behavior"))?.payload, "last");
    t.regex((await retained(t, broker.url, "pipdu/pdu1/total/power"))?.payload ?? "", /^[0-9]+\.[0-9]$/);
    t.like(JSON.parse((await retained(t, broker.url, "pipdu/pdu1/diagnostics"))?.payload ?? "{}"), {
      linkFailures: 0,
    });
  });

  test(`[${kind}] homeassistant/status online re-publishes discovery, then availability and every state`, async (t) => {
    const broker = await startBroker(t, kind);
    await startAgent(t, testSettings(t, { mqtt: { url: broker.url }, pdu: { outletCount: 2 } }), plugins());
    const w = await watch(t, broker.url, ["homeassistant/#", "pipdu/pdu1/#"]);
    await Promise.all([w.next(DISCOVERY), w.next("pipdu/pdu1/availability")]); // the retained copies
    await settled(w);
    const mark = w.received.length;
    await publishStatus(kind, broker.url, broker.port, t);
    const again = await w.next(DISCOVERY, mark);
    t.false(again.packet.retain, "a fresh publish, not the retained copy");
    await Promise.all(
      [
        "pipdu/pdu1/availability",
        "pipdu/pdu1/outlet/1/state",
        "pipdu/pdu1/outlet/2/power",
        "pipdu/pdu1/total/energy",
        "pipdu/pdu1/outlet/2/power_on_behavior",
      ].map((tp) => w.next(tp, mark)),
    );
    const order = w.received
      .slice(mark)
      .filter((m) => !m.packet.retain)
      .map((m) => m.topic);
    t.true(
      order.indexOf(DISCOVERY) < order.indexOf("pipdu/pdu1/availability"),
      "discovery before availability",
    );
    t.is(order.filter((tp) => tp === DISCOVERY).length, 1, "discovery sent once per birth");
  });

  test(`[${kind}] an unchanged payload is not re-sent after a restart; fewer outlets remove their components once`, async (t) => {
    const broker = await startBroker(t, kind);
    const settings4 = testSettings(t, { mqtt: { url: broker.url }, pdu: { outletCount: 4 } });
    const first = await startAgent(t, settings4, plugins());
    const w = await watch(t, broker.url, ["homeassistant/#", "pipdu/pdu1/availability"]);
    const original = await w.next(DISCOVERY);
    await first.stop();

    let mark = w.received.length;
    const second = await startAgent(t, settings4, plugins());
    await w.next("pipdu/pdu1/availability", mark);
    await second.agent.stop();
    t.is(
      w.received.slice(mark).filter((m) => m.topic === DISCOVERY).length,
      0,
      "same configuration: nothing re-sent",
    );

    mark = w.received.length;
    const settings3 = { ...settings4, pdu: { ...settings4.pdu, outletCount: 3 } };
    await startAgent(t, settings3, plugins());
    const removal = components(await w.next(DISCOVERY, mark));
    for (const key of [
      "outlet_4",
      "outlet_4_power",
      "outlet_4_current",
      "outlet_4_energy",
      "outlet_4_power_cycle",
      "outlet_4_power_on_behavior",
    ]) {
      t.deepEqual(removal[key], { p: components(original)[key]?.["p"] }, key);
    }
    t.like(removal["outlet_3"], { p: "switch", unique_id: "pipdu_pdu1_outlet_3" });
    t.deepEqual(
      checkDiscoveryMessage(
        DISCOVERY,
        JSON.stringify({ ...JSON.parse(original.payload), components: removal }),
        true,
        { prefix: "homeassistant" },
      ),
      [],
    );

    mark = w.received.length;
    await publishStatus(kind, broker.url, broker.port, t);
    const after = components(await w.next(DISCOVERY, mark));
    t.false(
      Object.keys(after).some((k) => k.startsWith("outlet_4")),
      "then omitted",
    );
  });

  test(`[${kind}] two PDUs on one broker never collide`, async (t) => {
    const broker = await startBroker(t, kind);
    const w = await watch(t, broker.url, ["homeassistant/#"]);
    await startAgent(
      t,
      testSettings(t, { mqtt: { url: broker.url }, pdu: { id: "pdu1", outletCount: 3 } }),
      plugins(),
    );
    await startAgent(
      t,
      testSettings(t, { mqtt: { url: broker.url }, pdu: { id: "pdu2", outletCount: 3 } }),
      plugins(),
    );
    const [a, b] = await Promise.all([w.next(DISCOVERY), w.next("homeassistant/device/pipdu_pdu2/config")]);
    const uniqueIds = new Map<string, string>();
    for (const m of [a, b])
      t.deepEqual(
        checkDiscoveryMessage(m.topic, m.payload, true, { prefix: "homeassistant", uniqueIds }),
        [],
      );
    const ids = (m: Received): unknown =>
      (JSON.parse(m.payload) as { device: { identifiers: unknown } }).device.identifiers;
    t.notDeepEqual(ids(a), ids(b));
    t.is(components(b)["outlet_1"]?.["command_topic"], "~/outlet/1/set");
    t.is(components(b)["outlet_1"]?.["~"], "pipdu/pdu2");
  });

  test(`[${kind}] the power-on behaviour select writes the firmware's COLD_POLICY register and replies with a result`, async (t) => {
    const broker = await startBroker(t, kind);
    const w = await watch(t, broker.url, ["pipdu/pdu1/result", "pipdu/pdu1/outlet/2/power_on_behavior"]);
    // A retained command left on the broker must never act when the agent subscribes.
    await w.client.publishAsync("pipdu/pdu1/outlet/3/power_on_behavior/set", "off", { qos: 1, retain: true });
    const pdu: InProcessAgent = await startAgent(
      t,
      testSettings(t, { mqtt: { url: broker.url }, pdu: { outletCount: 4 } }),
      plugins(),
    );
    await w.next("pipdu/pdu1/outlet/2/power_on_behavior");
    t.like(JSON.parse((await w.next("pipdu/pdu1/result")).payload), {
      outlet: 3,
      status: "error",
      error: { code: "retained_command" },
    });
    t.is(
      await retained(t, broker.url, "pipdu/pdu1/outlet/3/power_on_behavior/set"),
      null,
      "the retained command was cleared",
    );
    const register = new RegisterClient(pdu.sim.bus, DEFAULT_I2C_ADDRESS);

    let mark = w.received.length;
    await w.client.publishAsync("pipdu/pdu1/outlet/2/power_on_behavior/set", "ON", { qos: 1 });
    t.deepEqual(JSON.parse((await w.next("pipdu/pdu1/result", mark)).payload), {
      outlet: 2,
      command: "power_on_behavior",
      status: "ok",
      power_on_behavior: "on",
      // The embedded broker stamps the publisher's client id on commands; Mosquitto does not.
      source: kind === "embedded" ? `mqtt ${w.client.options.clientId ?? ""}` : "mqtt",
    });
    t.is((await w.next("pipdu/pdu1/outlet/2/power_on_behavior", mark)).payload, "on");
    t.deepEqual([...(await register.read(Reg.COLD_POLICY, 4))], [2, 1, 2, 2]);

    mark = w.received.length;
    await w.client.publishAsync("pipdu/pdu1/outlet/2/power_on_behavior/set", "sometimes", { qos: 1 });
    t.like(JSON.parse((await w.next("pipdu/pdu1/result", mark)).payload), {
      outlet: 2,
      status: "error",
      error: { code: "invalid_value" },
    });
    mark = w.received.length;
    await w.client.publishAsync("pipdu/pdu1/outlet/9/power_on_behavior/set", "off", { qos: 1 });
    t.like(JSON.parse((await w.next("pipdu/pdu1/result", mark)).payload), {
      outlet: null,
      status: "error",
      error: { code: "invalid_outlet" },
    });
    t.deepEqual(
      [...(await register.read(Reg.COLD_POLICY, 4))],
      [2, 1, 2, 2],
      "rejected commands change nothing",
    );
  });

  test(`[${kind}] pipdu ha remove clears the retained discovery; discovery off withdraws it`, async (t) => {
    const broker = await startBroker(t, kind);
    const settings = testSettings(t, { mqtt: { url: broker.url }, pdu: { outletCount: 2 } });
    const running = await startAgent(t, settings, plugins());
    t.truthy(await retained(t, broker.url, DISCOVERY));
    await running.stop();
    const w = await watch(t, broker.url, ["homeassistant/#"]);
    await w.next(DISCOVERY);
    const mark = w.received.length;
    t.deepEqual(await removeDiscovery(settings, silentLogger()), [DISCOVERY]);
    t.is((await w.next(DISCOVERY, mark)).payload, "");
    t.is(await retained(t, broker.url, DISCOVERY), null);

    await startAgent(t, settings, plugins()).then((a) => a.stop());
    t.truthy(await retained(t, broker.url, DISCOVERY), "announced again on the next start");
    await startAgent(t, { ...settings, ha: { ...settings.ha, discovery: false } }, plugins());
    t.is(await retained(t, broker.url, DISCOVERY), null, "discovery off takes it back");
  });
}

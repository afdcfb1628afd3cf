// The MQTT 5 features piPDU and Home Assistant use, on the embedded broker and on Mosquitto side by side:
// both must behave alike, so a standalone piPDU works with the same clients as a Mosquitto setup.
import { spawn } from "node:child_process";
import test, { type ExecutionContext } from "ava";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { EmbeddedBroker } from "../broker/embedded-broker.ts";
import { silentLogger } from "../log/logger.ts";
import {
  closed,
  collectMessages,
  connectClient,
  nextMessage,
  type Received,
} from "./helpers/mqtt-clients.ts";
import {
  BROKERS,
  freePort,
  tempDir,
  waitForPort,
  writeMosquittoConf,
  type BrokerKind,
} from "./helpers/system.ts";

/** Both brokers enforce this on what clients send (Mosquitto: max_packet_size). */
const MAX_PACKET = 64 * 1024;

interface Running {
  url: string;
  restart(): Promise<void>;
}

async function startBroker(t: ExecutionContext, kind: BrokerKind): Promise<Running> {
  const stateDir = tempDir(t);
  if (kind === "embedded") {
    const make = (port: number): EmbeddedBroker =>
      new EmbeddedBroker({
        host: "127.0.0.1",
        port,
        wsPort: null,
        stateDir,
        logger: silentLogger(),
        retainedFlushDelayMs: 0,
        maximumPacketSize: MAX_PACKET,
      });
    let broker = make(0);
    t.teardown(() => broker.stop());
    const { port } = await broker.start();
    return {
      url: `mqtt://127.0.0.1:${port}`,
      restart: async () => {
        await broker.stop();
        broker = make(port);
        await broker.start();
      },
    };
  }
  const port = await freePort();
  const conf = writeMosquittoConf(stateDir, port, [`max_packet_size ${MAX_PACKET}`, "max_topic_alias 10"]);
  let proc = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
  t.teardown(stop);
  await waitForPort(port);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    restart: async () => {
      await stop();
      proc = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
      await waitForPort(port);
    },
  };
}

const v5 = { protocolVersion: 5 } as const;

/** Publishes a marker and waits for it, so that every message published before it has been delivered. */
async function sync(t: ExecutionContext, url: string, client: MqttClient): Promise<void> {
  const marker = `pipdu/marker/${Math.random().toString(36).slice(2)}`;
  await client.subscribeAsync(marker, { qos: 1 });
  const arrived = nextMessage(client, marker);
  const publisher = await connectClient(t, url, v5);
  await publisher.publishAsync(marker, "sync", { qos: 1 });
  await arrived;
}

const topicsOf = (messages: Received[], prefix: string): string[] =>
  messages.filter((m) => m.topic.startsWith(prefix)).map((m) => `${m.topic}=${m.payload}`);

for (const kind of BROKERS) {
  const it = (title: string, body: (t: ExecutionContext) => Promise<void>): void =>
    test(`[${kind}] ${title}`, body);

  for (const qos of [0, 1, 2] as const) {
    it(`an MQTT 5 subscriber receives a QoS ${qos} publish from an MQTT 5 client`, async (t) => {
      const { url } = await startBroker(t, kind);
      const subscriber = await connectClient(t, url, v5);
      const publisher = await connectClient(t, url, v5);
      await subscriber.subscribeAsync("pipdu/pdu1/outlet/3/state", { qos: 2 });
      const received = nextMessage(subscriber, "pipdu/pdu1/outlet/3/state");
      await publisher.publishAsync("pipdu/pdu1/outlet/3/state", "ON", { qos });
      const message = await received;
      t.is(message.payload, "ON");
      t.is(message.packet.qos, qos);
    });
  }

  it("MQTT 5 and MQTT 3.1.1 clients exchange messages both ways", async (t) => {
    const { url } = await startBroker(t, kind);
    const client5 = await connectClient(t, url, v5);
    const client4 = await connectClient(t, url, { protocolVersion: 4 });
    await client5.subscribeAsync("pipdu/a", { qos: 1 });
    await client4.subscribeAsync("pipdu/b", { qos: 1 });
    const to5 = nextMessage(client5, "pipdu/a");
    const to4 = nextMessage(client4, "pipdu/b");
    await client4.publishAsync("pipdu/a", "from 3.1.1", { qos: 1 });
    await client5.publishAsync("pipdu/b", "from 5", { qos: 1, properties: { userProperties: { k: "v" } } });
    t.is((await to5).payload, "from 3.1.1");
    t.is((await to4).payload, "from 5");
  });

  it("response topic, correlation data, user properties, content type and message expiry reach the subscriber", async (t) => {
    const { url } = await startBroker(t, kind);
    const subscriber = await connectClient(t, url, v5);
    const publisher = await connectClient(t, url, v5);
    await subscriber.subscribeAsync("pipdu/pdu1/outlet/3/set", { qos: 1 });
    const received = nextMessage(subscriber, "pipdu/pdu1/outlet/3/set");
    await publisher.publishAsync("pipdu/pdu1/outlet/3/set", "CYCLE", {
      qos: 1,
      properties: {
        responseTopic: "pipdu/response/client42/reply",
        correlationData: Buffer.from([1, 2, 3, 250]),
        userProperties: { source: "test", trace: ["a", "b"] },
        messageExpiryInterval: 30,
        contentType: "text/plain",
      },
    });
    const properties = (await received).packet.properties;
    t.is(properties?.responseTopic, "pipdu/response/client42/reply");
    t.deepEqual(properties?.correlationData, Buffer.from([1, 2, 3, 250]));
    t.like(properties?.userProperties, { source: "test", trace: ["a", "b"] });
    t.is(properties?.contentType, "text/plain");
    const expiry = properties?.messageExpiryInterval ?? 0;
    t.true(expiry > 0 && expiry <= 30, `expiry ${expiry}`);
  });

  it("retain-as-published keeps the retain flag on live messages; without it the flag is cleared", async (t) => {
    const { url } = await startBroker(t, kind);
    const keeps = await connectClient(t, url, v5);
    const clears = await connectClient(t, url, v5);
    const publisher = await connectClient(t, url, v5);
    await keeps.subscribeAsync("pipdu/pdu1/info", { qos: 1, rap: true });
    await clears.subscribeAsync("pipdu/pdu1/info", { qos: 1, rap: false });
    const kept = nextMessage(keeps, "pipdu/pdu1/info");
    const cleared = nextMessage(clears, "pipdu/pdu1/info");
    await publisher.publishAsync("pipdu/pdu1/info", "{}", { qos: 1, retain: true });
    t.true((await kept).packet.retain);
    t.false((await cleared).packet.retain);
  });

  it("no-local keeps a client's own messages from it; retain handling 2 sends no retained message", async (t) => {
    const { url } = await startBroker(t, kind);
    const publisher = await connectClient(t, url, v5);
    await publisher.publishAsync("pipdu/pdu1/availability", "online", { qos: 1, retain: true });
    const client = await connectClient(t, url, v5);
    const seen = collectMessages(client);
    await client.subscribeAsync("pipdu/pdu1/outlet/1/set", { qos: 1, nl: true });
    await client.subscribeAsync("pipdu/pdu1/availability", { qos: 1, rh: 2 });
    await client.publishAsync("pipdu/pdu1/outlet/1/set", "ON", { qos: 1 });
    await publisher.publishAsync("pipdu/pdu1/outlet/1/set", "OFF", { qos: 1 });
    await sync(t, url, client);
    t.deepEqual(topicsOf(seen, "pipdu/pdu1"), ["pipdu/pdu1/outlet/1/set=OFF"]);
  });

  it("a subscription identifier comes back on the messages it matched", async (t) => {
    const { url } = await startBroker(t, kind);
    const client = await connectClient(t, url, v5);
    await client.subscribeAsync("pipdu/+/result", { qos: 1, properties: { subscriptionIdentifier: 7 } });
    const received = nextMessage(client, "pipdu/pdu1/result");
    await client.publishAsync("pipdu/pdu1/result", "{}", { qos: 1 });
    t.deepEqual((await received).packet.properties?.subscriptionIdentifier, 7);
  });

  it("a session with an expiry interval survives a disconnect and gets what was queued; a clean start discards it", async (t) => {
    const { url } = await startBroker(t, kind);
    const session: IClientOptions = {
      ...v5,
      clientId: "ha-session",
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    };
    const first = await connectClient(t, url, session);
    await first.subscribeAsync("pipdu/pdu1/result", { qos: 1 });
    await first.endAsync();
    const publisher = await connectClient(t, url, v5);
    await publisher.publishAsync("pipdu/pdu1/result", "queued", { qos: 1 });
    await publisher.publishAsync("pipdu/pdu1/result", "expired", {
      qos: 1,
      properties: { messageExpiryInterval: 1 },
    });
    await new Promise((resolve) => setTimeout(resolve, 2100)); // let the second message expire
    // Queued messages arrive right after CONNACK: listen before connecting.
    const second = mqtt.connect(url, { ...session, reconnectPeriod: 0 });
    t.teardown(() => second.endAsync(true));
    const seen: string[] = [];
    second.on("message", (topic, payload) => {
      if (topic === "pipdu/pdu1/result") seen.push(payload.toString());
    });
    await new Promise((resolve) => second.once("connect", resolve));
    await sync(t, url, second);
    t.deepEqual(seen, ["queued"], "the queued message arrives; the expired one does not");
    await second.endAsync();

    await publisher.publishAsync("pipdu/pdu1/result", "for the old session", { qos: 1 });
    const fresh = await connectClient(t, url, { ...session, clean: true });
    const after = collectMessages(fresh);
    await sync(t, url, fresh);
    t.deepEqual(topicsOf(after, "pipdu/pdu1"), [], "a clean start discards the session and its queue");
  });

  it("a topic alias set on one publish names the topic of the next", async (t) => {
    const { url } = await startBroker(t, kind);
    const subscriber = await connectClient(t, url, v5);
    const seen = collectMessages(subscriber);
    await subscriber.subscribeAsync("pipdu/pdu1/outlet/+/power", { qos: 1 });
    const publisher = await connectClient(t, url, v5);
    await publisher.publishAsync("pipdu/pdu1/outlet/2/power", "10.5", {
      qos: 1,
      properties: { topicAlias: 1 },
    });
    await publisher.publishAsync("", "11.0", { qos: 1, properties: { topicAlias: 1 } });
    await sync(t, url, subscriber);
    t.deepEqual(topicsOf(seen, "pipdu/pdu1"), [
      "pipdu/pdu1/outlet/2/power=10.5",
      "pipdu/pdu1/outlet/2/power=11.0",
    ]);
  });

  it("the broker announces its maximum packet size and disconnects a client that exceeds it", async (t) => {
    const { url } = await startBroker(t, kind);
    const client = await connectClient(t, url, v5);
    const gone = closed(client);
    const announced = await new Promise<number | undefined>((resolve, reject) => {
      const probe = mqtt.connect(url, { ...v5, reconnectPeriod: 0 });
      t.teardown(() => probe.endAsync(true));
      probe.once("connect", (connack) => resolve(connack.properties?.maximumPacketSize));
      probe.once("error", reject);
    });
    t.is(announced, MAX_PACKET);
    client.publish("pipdu/big", Buffer.alloc(MAX_PACKET + 1), { qos: 0 });
    await gone;
    const other = await connectClient(t, url, v5);
    t.true(other.connected, "the broker keeps serving");
  });

  it("a message larger than a client's maximum packet size is not sent to it", async (t) => {
    const { url } = await startBroker(t, kind);
    const small = await connectClient(t, url, { ...v5, properties: { maximumPacketSize: 200 } });
    const seen = collectMessages(small);
    await small.subscribeAsync("pipdu/pdu1/telemetry", { qos: 1 });
    const publisher = await connectClient(t, url, v5);
    await publisher.publishAsync("pipdu/pdu1/telemetry", "x".repeat(400), { qos: 1 });
    await publisher.publishAsync("pipdu/pdu1/telemetry", "small", { qos: 1 });
    await sync(t, url, small);
    t.deepEqual(topicsOf(seen, "pipdu/pdu1"), ["pipdu/pdu1/telemetry=small"]);
  });

  it("a delayed will is published once its client stays away, and not when it comes back in time", async (t) => {
    const { url } = await startBroker(t, kind);
    const watcher = await connectClient(t, url, v5);
    const seen = collectMessages(watcher);
    await watcher.subscribeAsync("pipdu/+/availability", { qos: 1 });
    const withWill = (pdu: string): IClientOptions => ({
      ...v5,
      clientId: `will-${pdu}`,
      properties: { sessionExpiryInterval: 60 },
      will: {
        topic: `pipdu/${pdu}/availability`,
        payload: Buffer.from("offline"),
        qos: 1,
        retain: false,
        properties: { willDelayInterval: 1 },
      },
    });
    const away = await connectClient(t, url, withWill("away"));
    const back = await connectClient(t, url, withWill("back"));
    const will = nextMessage(watcher, "pipdu/away/availability");
    away.stream.destroy();
    back.stream.destroy();
    await connectClient(t, url, withWill("back"));
    t.is((await will).payload, "offline");
    await new Promise((resolve) => setTimeout(resolve, 1200)); // past the delay of the returning client too
    await sync(t, url, watcher);
    t.deepEqual(
      seen.filter((m) => m.topic.endsWith("/availability")).map((m) => `${m.topic}=${m.payload}`),
      ["pipdu/away/availability=offline"],
    );
  });

  it("an MQTT 5 client's last will is published at once when it has no delay", async (t) => {
    const { url } = await startBroker(t, kind);
    const watcher = await connectClient(t, url, v5);
    await watcher.subscribeAsync("pipdu/pdu1/availability", { qos: 1 });
    const agent = await connectClient(t, url, {
      ...v5,
      will: { topic: "pipdu/pdu1/availability", payload: Buffer.from("offline"), qos: 1, retain: true },
    });
    const will = nextMessage(watcher, "pipdu/pdu1/availability");
    agent.stream.destroy();
    t.is((await will).payload, "offline");
  });

  it("a retained message keeps its MQTT 5 properties across a broker restart", async (t) => {
    const broker = await startBroker(t, kind);
    const publisher = await connectClient(t, broker.url, v5);
    await publisher.publishAsync("pipdu/pdu1/info", '{"outlets":16}', {
      qos: 1,
      retain: true,
      properties: {
        contentType: "application/json",
        userProperties: { schema: "1" },
        correlationData: Buffer.from([9, 8]),
      },
    });
    await publisher.endAsync();
    await new Promise((resolve) => setTimeout(resolve, kind === "mosquitto" ? 1100 : 0)); // autosave_interval 1
    await broker.restart();
    const subscriber = await connectClient(t, broker.url, v5);
    const received = nextMessage(subscriber, "pipdu/pdu1/info");
    await subscriber.subscribeAsync("pipdu/pdu1/info", { qos: 1 });
    const message = await received;
    t.is(message.payload, '{"outlets":16}');
    t.true(message.packet.retain);
    t.is(message.packet.properties?.contentType, "application/json");
    t.like(message.packet.properties?.userProperties, { schema: "1" });
    t.deepEqual(message.packet.properties?.correlationData, Buffer.from([9, 8]));
  });
}

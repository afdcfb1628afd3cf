// MQTT 5 through the embedded broker. Which half runs depends on the Aedes installed:
// a broker that speaks MQTT 5 must pass the first half; one that speaks only 3.1.1 must
// refuse MQTT 5 clients at once, in a way MQTT.js reports (agents then fall back to 3.1.1).
import test, { type ExecutionContext } from "ava";
import mqtt from "mqtt";
import { EmbeddedBroker, type BrokerOptions } from "../broker/embedded-broker.ts";
import { silentLogger } from "../log/logger.ts";
import { connectClient, connectionRefusal, nextMessage, tempDir } from "./helpers/mqtt-clients.ts";

async function startBroker(
  t: ExecutionContext,
  options: Partial<BrokerOptions> = {},
): Promise<{ broker: EmbeddedBroker; url: string }> {
  const broker = new EmbeddedBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: null,
    stateDir: null,
    logger: silentLogger(),
    ...options,
  });
  t.teardown(() => broker.stop());
  const { port } = await broker.start();
  return { broker, url: `mqtt://127.0.0.1:${port}` };
}

async function brokerSpeaksMqtt5(): Promise<boolean> {
  const broker = new EmbeddedBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: null,
    stateDir: null,
    logger: silentLogger(),
  });
  const { port } = await broker.start();
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    await client.endAsync();
    return true;
  } catch {
    return false;
  } finally {
    await broker.stop();
  }
}

const speaksMqtt5 = await brokerSpeaksMqtt5();
const mqtt5 = speaksMqtt5 ? test : test.skip;
const mqtt311Only = speaksMqtt5 ? test.skip : test;
const v5 = { protocolVersion: 5 } as const;

mqtt311Only("an MQTT 5 client is refused at once with 'unacceptable protocol version'", async (t) => {
  const { url } = await startBroker(t);
  const refusal = await connectionRefusal(t, url, v5);
  t.true(refusal instanceof Error);
  t.regex((refusal as Error).message, /unacceptable protocol version/i);
  t.is((refusal as Error & { code?: number }).code, 1);
});

mqtt311Only("an MQTT 3.1.1 client still connects after an MQTT 5 client was refused", async (t) => {
  const { url } = await startBroker(t);
  await connectionRefusal(t, url, v5);
  const client = await connectClient(t, url, { protocolVersion: 4 });
  t.true(client.connected);
});

for (const qos of [0, 1] as const) {
  mqtt5(`an MQTT 5 subscriber receives a QoS ${qos} publish from an MQTT 5 client`, async (t) => {
    const { url } = await startBroker(t);
    const subscriber = await connectClient(t, url, v5);
    const publisher = await connectClient(t, url, v5);
    await subscriber.subscribeAsync("pipdu/pdu1/outlet/3/state", { qos: 1 });
    const received = nextMessage(subscriber, "pipdu/pdu1/outlet/3/state");
    await publisher.publishAsync("pipdu/pdu1/outlet/3/state", "ON", { qos });
    const message = await received;
    t.is(message.payload, "ON");
    t.is(message.packet.qos, qos);
  });
}

mqtt5("MQTT 5 and MQTT 3.1.1 clients exchange messages both ways", async (t) => {
  const { url } = await startBroker(t);
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

mqtt5(
  "response topic, correlation data, user properties and message expiry reach the subscriber",
  async (t) => {
    const { url } = await startBroker(t);
    const subscriber = await connectClient(t, url, v5);
    const publisher = await connectClient(t, url, v5);
    await subscriber.subscribeAsync("pipdu/pdu1/outlet/3/set", { qos: 1 });
    const received = nextMessage(subscriber, "pipdu/pdu1/outlet/3/set");
    await publisher.publishAsync("pipdu/pdu1/outlet/3/set", "CYCLE", {
      qos: 1,
      properties: {
        responseTopic: "client/42/reply",
        correlationData: Buffer.from([1, 2, 3, 250]),
        userProperties: { source: "test", trace: ["a", "b"] },
        messageExpiryInterval: 30,
        contentType: "text/plain",
      },
    });
    const properties = (await received).packet.properties;
    t.is(properties?.responseTopic, "client/42/reply");
    t.deepEqual(properties?.correlationData, Buffer.from([1, 2, 3, 250]));
    t.deepEqual(properties?.userProperties, { source: "test", trace: ["a", "b"] });
    t.is(properties?.contentType, "text/plain");
    t.true((properties?.messageExpiryInterval ?? 0) > 0 && (properties?.messageExpiryInterval ?? 99) <= 30);
  },
);

mqtt5(
  "retain-as-published keeps the retain flag on live messages; without it the flag is cleared",
  async (t) => {
    const { url } = await startBroker(t);
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
  },
);

mqtt5("an MQTT 5 client's last will is published when its socket is destroyed", async (t) => {
  const { url } = await startBroker(t);
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

mqtt5("a retained message keeps its MQTT 5 properties across a broker restart", async (t) => {
  const stateDir = await tempDir(t);
  const first = await startBroker(t, { stateDir });
  const publisher = await connectClient(t, first.url, v5);
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
  await first.broker.stop();

  const second = await startBroker(t, { stateDir });
  const subscriber = await connectClient(t, second.url, v5);
  const received = nextMessage(subscriber, "pipdu/pdu1/info");
  await subscriber.subscribeAsync("pipdu/pdu1/info", { qos: 1 });
  const message = await received;
  t.is(message.payload, '{"outlets":16}');
  t.true(message.packet.retain);
  t.is(message.packet.properties?.contentType, "application/json");
  t.deepEqual(message.packet.properties?.userProperties, { schema: "1" });
  t.deepEqual(message.packet.properties?.correlationData, Buffer.from([9, 8]));
});

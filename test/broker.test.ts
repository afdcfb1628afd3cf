import { readdir, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import { EmbeddedBroker, type BrokerOptions } from "../broker/embedded-broker.ts";
import { silentLogger } from "../log/logger.ts";
import { closed, collectMessages, connectClient, nextMessage, tempDir } from "./helpers/mqtt-clients.ts";

async function startBroker(
  t: ExecutionContext,
  options: Partial<BrokerOptions> = {},
): Promise<{ broker: EmbeddedBroker; url: string; wsUrl: string }> {
  const broker = new EmbeddedBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: 0,
    stateDir: null,
    logger: silentLogger(),
    allowAnonymous: true, // WebSocket clients get no loopback trust
    ...options,
  });
  t.teardown(() => broker.stop());
  const { port, wsPort } = await broker.start();
  return { broker, url: `mqtt://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${wsPort ?? 0}` };
}

for (const qos of [0, 1] as const) {
  test(`an MQTT 3.1.1 subscriber receives a QoS ${qos} publish from another 3.1.1 client`, async (t) => {
    const { url } = await startBroker(t);
    const subscriber = await connectClient(t, url, { protocolVersion: 4 });
    const publisher = await connectClient(t, url, { protocolVersion: 4 });
    await subscriber.subscribeAsync("pipdu/pdu1/outlet/3/state", { qos: 1 });
    const received = nextMessage(subscriber, "pipdu/pdu1/outlet/3/state");
    await publisher.publishAsync("pipdu/pdu1/outlet/3/state", "ON", { qos });
    const message = await received;
    t.is(message.payload, "ON");
    t.is(message.packet.qos, qos);
    t.false(message.packet.retain);
  });
}

test("a retained message is replayed to a later subscriber with the retain flag set", async (t) => {
  const { url } = await startBroker(t);
  const publisher = await connectClient(t, url);
  await publisher.publishAsync("pipdu/pdu1/availability", "online", { qos: 1, retain: true });
  const subscriber = await connectClient(t, url);
  const received = nextMessage(subscriber, "pipdu/pdu1/availability");
  await subscriber.subscribeAsync("pipdu/#", { qos: 1 });
  const message = await received;
  t.is(message.payload, "online");
  t.true(message.packet.retain);
});

test("retained messages survive a broker stop and start with the same state directory", async (t) => {
  const stateDir = await tempDir(t);
  const first = await startBroker(t, { stateDir });
  const publisher = await connectClient(t, first.url);
  await publisher.publishAsync("pipdu/pdu1/outlet/3/state", "ON", { qos: 1, retain: true });
  await publisher.publishAsync("pipdu/pdu1/outlet/4/state", Buffer.from([0, 255, 1]), {
    qos: 0,
    retain: true,
  });
  await publisher.publishAsync("pipdu/pdu1/outlet/5/state", "OFF", { qos: 1, retain: true });
  await publisher.endAsync();
  await first.broker.stop();

  const second = await startBroker(t, { stateDir });
  const subscriber = await connectClient(t, second.url);
  const messages = collectMessages(subscriber);
  const last = nextMessage(subscriber, "pipdu/pdu1/outlet/5/state");
  await subscriber.subscribeAsync("pipdu/pdu1/outlet/+/state", { qos: 1 });
  await last;
  const byTopic = new Map(messages.map((m) => [m.topic, m]));
  t.is(byTopic.get("pipdu/pdu1/outlet/3/state")?.payload, "ON");
  t.deepEqual(byTopic.get("pipdu/pdu1/outlet/4/state")?.packet.payload, Buffer.from([0, 255, 1]));
  t.true(messages.every((m) => m.packet.retain));
  t.is(messages.length, 3);
});

test("deleting a retained message with an empty payload survives a broker restart", async (t) => {
  const stateDir = await tempDir(t);
  const first = await startBroker(t, { stateDir });
  const publisher = await connectClient(t, first.url);
  await publisher.publishAsync("homeassistant/device/pdu1/config", "{}", { qos: 1, retain: true });
  await publisher.publishAsync("pipdu/pdu1/info", "{}", { qos: 1, retain: true });
  await publisher.publishAsync("homeassistant/device/pdu1/config", "", { qos: 1, retain: true });
  await publisher.endAsync();
  await first.broker.stop();

  const second = await startBroker(t, { stateDir });
  const subscriber = await connectClient(t, second.url);
  const messages = collectMessages(subscriber);
  // "#" replays every retained message; the info one arriving proves the replay happened.
  const info = nextMessage(subscriber, "pipdu/pdu1/info");
  await subscriber.subscribeAsync("#", { qos: 1 });
  await info;
  t.deepEqual(
    messages.map((m) => m.topic),
    ["pipdu/pdu1/info"],
  );
});

test("a WebSocket client exchanges messages with a TCP client", async (t) => {
  const { url, wsUrl } = await startBroker(t);
  const wsClient = await connectClient(t, wsUrl);
  const tcpClient = await connectClient(t, url);
  await wsClient.subscribeAsync("pipdu/pdu1/result", { qos: 1 });
  const toWs = nextMessage(wsClient, "pipdu/pdu1/result");
  await tcpClient.publishAsync("pipdu/pdu1/result", '{"status":"ok"}', { qos: 1 });
  t.is((await toWs).payload, '{"status":"ok"}');

  await tcpClient.subscribeAsync("pipdu/pdu1/outlet/1/set", { qos: 1 });
  const toTcp = nextMessage(tcpClient, "pipdu/pdu1/outlet/1/set");
  await wsClient.publishAsync("pipdu/pdu1/outlet/1/set", "TOGGLE", { qos: 1 });
  t.is((await toTcp).payload, "TOGGLE");
});

test("a client's last will is published when its socket is destroyed", async (t) => {
  const { url } = await startBroker(t);
  const watcher = await connectClient(t, url);
  await watcher.subscribeAsync("pipdu/pdu1/availability", { qos: 1 });
  const agent = await connectClient(t, url, {
    will: { topic: "pipdu/pdu1/availability", payload: Buffer.from("offline"), qos: 1, retain: true },
  });
  const will = nextMessage(watcher, "pipdu/pdu1/availability");
  agent.stream.destroy();
  const message = await will;
  t.is(message.payload, "offline");
});

test("a clean disconnect does not publish the last will", async (t) => {
  const { url } = await startBroker(t);
  const watcher = await connectClient(t, url);
  const messages = collectMessages(watcher);
  await watcher.subscribeAsync("pipdu/pdu1/#", { qos: 1 });
  const agent = await connectClient(t, url, {
    will: { topic: "pipdu/pdu1/availability", payload: Buffer.from("offline"), qos: 1, retain: false },
  });
  await agent.endAsync();
  const marker = nextMessage(watcher, "pipdu/pdu1/marker");
  const other = await connectClient(t, url);
  await other.publishAsync("pipdu/pdu1/marker", "after", { qos: 1 });
  await marker;
  t.deepEqual(
    messages.map((m) => m.topic),
    ["pipdu/pdu1/marker"],
  );
});

test("stop() resolves with clients still connected and closes their connections", async (t) => {
  const { broker, url, wsUrl } = await startBroker(t);
  const tcpClient = await connectClient(t, url);
  const wsClient = await connectClient(t, wsUrl);
  const bothClosed = Promise.all([closed(tcpClient), closed(wsClient)]);
  await broker.stop();
  await bothClosed;
  t.pass();
});

test("port 0 picks a free port for each listener and a second start on the same ports fails cleanly", async (t) => {
  const { broker } = await startBroker(t);
  const other = new EmbeddedBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: null,
    stateDir: null,
    logger: silentLogger(),
  });
  t.teardown(() => other.stop());
  const address = await other.start();
  t.true(address.port > 0);
  t.is(address.wsPort, null);
  await broker.stop();
  const clash = new EmbeddedBroker({
    host: "127.0.0.1",
    port: address.port,
    wsPort: null,
    stateDir: null,
    logger: silentLogger(),
  });
  await t.throwsAsync(clash.start(), { code: "EADDRINUSE" });
});

test("garbage bytes on the MQTT port close that connection and the broker keeps serving", async (t) => {
  const { url } = await startBroker(t);
  const port = Number(new URL(url).port);
  await new Promise<void>((resolve) => {
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(Buffer.from("GET / HTTP/1.1\r\n\r\n\xff\xff\xff")),
    );
    socket.on("error", () => undefined);
    socket.on("close", () => resolve());
  });
  const client = await connectClient(t, url);
  await client.subscribeAsync("pipdu/x", { qos: 1 });
  const received = nextMessage(client, "pipdu/x");
  await client.publishAsync("pipdu/x", "still here", { qos: 1 });
  t.is((await received).payload, "still here");
});

test("a client id named like an Object prototype member connects and is served", async (t) => {
  const { url } = await startBroker(t);
  for (const clientId of ["constructor", "__proto__", "toString"]) {
    const client = await connectClient(t, url, { clientId });
    await client.subscribeAsync("pipdu/proto", { qos: 1 });
    const received = nextMessage(client, "pipdu/proto");
    await client.publishAsync("pipdu/proto", clientId, { qos: 1 });
    t.is((await received).payload, clientId);
    await client.endAsync();
  }
});

// Hand-built MQTT 3.1.1 packets: MQTT.js picks its own message ids, this test needs to reuse one.
function mqttString(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}
function packet(header: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([header, body.length]), body]); // bodies here stay under 128 bytes
}
const connectPacket = (clientId: string): Buffer =>
  packet(0x10, Buffer.concat([mqttString("MQTT"), Buffer.from([4, 0x02, 0, 60]), mqttString(clientId)]));
const publishQos2 = (topic: string, messageId: number, payload: string): Buffer =>
  packet(
    0x34,
    Buffer.concat([mqttString(topic), Buffer.from([messageId >> 8, messageId & 0xff]), Buffer.from(payload)]),
  );

function rawSession(port: number): {
  send(bytes: Buffer): void;
  next(type: number): Promise<Buffer>;
  onClose(listener: () => void): void;
  destroy(): void;
} {
  const socket = connect(port, "127.0.0.1");
  let buffered = Buffer.alloc(0);
  const waiting: { type: number; resolve: (packet: Buffer) => void }[] = [];
  socket.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + (buffered[1] ?? 0)) {
      const length = 2 + (buffered[1] ?? 0);
      const received = buffered.subarray(0, length);
      buffered = buffered.subarray(length);
      const index = waiting.findIndex((w) => w.type === (received[0] ?? 0) >> 4);
      if (index >= 0) waiting.splice(index, 1)[0]?.resolve(received);
    }
  });
  socket.on("error", () => undefined);
  return {
    send: (bytes) => socket.write(bytes),
    next: (type) => new Promise((resolve) => waiting.push({ type, resolve })),
    onClose: (listener) => socket.once("close", listener),
    destroy: () => socket.destroy(),
  };
}

test("a QoS 2 publish reusing a message id after a clean-session reconnect is delivered, not dropped as a duplicate", async (t) => {
  const { url } = await startBroker(t);
  const port = Number(new URL(url).port);
  const subscriber = await connectClient(t, url);
  const messages = collectMessages(subscriber);
  await subscriber.subscribeAsync("pipdu/pdu1/outlet/3/set", { qos: 2 });

  const first = rawSession(port);
  first.send(connectPacket("panel"));
  await first.next(2); // CONNACK
  first.send(publishQos2("pipdu/pdu1/outlet/3/set", 7, "ON"));
  await first.next(5); // PUBREC; the connection drops before PUBREL
  first.destroy();

  const second = rawSession(port);
  t.teardown(() => second.destroy());
  second.send(connectPacket("panel"));
  await second.next(2);
  second.send(publishQos2("pipdu/pdu1/outlet/3/set", 7, "OFF"));
  await second.next(5);
  second.send(Buffer.from([0x62, 2, 0, 7])); // PUBREL
  await second.next(7); // PUBCOMP
  const marker = nextMessage(subscriber, "pipdu/marker");
  await subscriber.subscribeAsync("pipdu/marker", { qos: 1 });
  await subscriber.publishAsync("pipdu/marker", "sync", { qos: 1 });
  await marker;
  t.deepEqual(
    messages.filter((m) => m.topic === "pipdu/pdu1/outlet/3/set").map((m) => m.payload),
    ["ON", "OFF"],
  );
});

test("an unreadable retained store is set aside and the broker starts with no retained messages", async (t) => {
  const stateDir = await tempDir(t);
  await writeFile(path.join(stateDir, "retained.json"), '{"version":1,"messages":[{"topic":');
  const { url } = await startBroker(t, { stateDir });
  const client = await connectClient(t, url);
  const messages = collectMessages(client);
  await client.subscribeAsync("#", { qos: 1 });
  const marker = nextMessage(client, "pipdu/marker");
  await client.publishAsync("pipdu/marker", "sync", { qos: 1 });
  await marker;
  t.deepEqual(
    messages.map((m) => m.topic),
    ["pipdu/marker"],
  );
  t.true((await readdir(stateDir)).some((name) => name.startsWith("retained.json.corrupt-")));
});

test("a SUBSCRIBE listing the filter __proto__ beside another is granted both and the broker keeps serving", async (t) => {
  const { url } = await startBroker(t);
  const session = rawSession(Number(new URL(url).port));
  t.teardown(() => session.destroy());
  session.send(connectPacket("proto-subscriber"));
  await session.next(2);
  const filters = Buffer.concat([
    mqttString("__proto__"),
    Buffer.from([1]),
    mqttString("pipdu/x"),
    Buffer.from([1]),
  ]);
  session.send(packet(0x82, Buffer.concat([Buffer.from([0, 9]), filters])));
  const suback = await session.next(9);
  t.deepEqual([...suback.subarray(2)], [0, 9, 1, 1]);
  const client = await connectClient(t, url);
  await client.subscribeAsync("pipdu/y", { qos: 1 });
  const received = nextMessage(client, "pipdu/y");
  await client.publishAsync("pipdu/y", "still here", { qos: 1 });
  t.is((await received).payload, "still here");
});

test("a client holding 1000 QoS 2 messages without PUBREL is disconnected at the next one; others are served", async (t) => {
  const { url } = await startBroker(t);
  const port = Number(new URL(url).port);
  const session = rawSession(port);
  session.send(connectPacket("half-open"));
  await session.next(2);
  const gone = new Promise<void>((resolve) => session.onClose(resolve));
  const publishes = Array.from({ length: 1001 }, (_, i) => publishQos2("pipdu/flood", i + 1, "x"));
  session.send(Buffer.concat(publishes));
  await gone;
  const client = await connectClient(t, url);
  await client.subscribeAsync("pipdu/y", { qos: 1 });
  const received = nextMessage(client, "pipdu/y");
  await client.publishAsync("pipdu/y", "served", { qos: 1 });
  t.is((await received).payload, "served");
});

import net from "node:net";
import { Duplex } from "node:stream";
import test from "ava";
import mqtt, { MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { Publisher } from "../../pdu-agent/publisher.ts";
import { Topics } from "../../protocol/topics.ts";
import { createLogger } from "../../log/logger.ts";

/** A client whose broker went away: it says so, and a QoS 1 publish would wait for its PUBACK forever. */
function brokerGone(): { client: MqttClient; published: string[] } {
  const published: string[] = [];
  const client = {
    connected: false,
    on: () => client,
    publishAsync: (topic: string) => {
      published.push(topic);
      return new Promise(() => undefined);
    },
  } as unknown as MqttClient;
  return { client, published };
}

test("a stopping agent's publish with the broker gone resolves at once and sends nothing", async (t) => {
  const publisher = new Publisher(new Topics("pipdu"), "pdu1", createLogger({ silent: true }));
  const { client, published } = brokerGone();
  publisher.attach(client);
  publisher.stop();
  await publisher.publish("pipdu/pdu1/pending", "[]", true);
  t.deepEqual(published, []);
});

test("a stopping agent's plugin publish with the broker gone is refused at once instead of waiting", async (t) => {
  const publisher = new Publisher(new Topics("pipdu"), "pdu1", createLogger({ silent: true }));
  const { client, published } = brokerGone();
  publisher.attach(client);
  publisher.stop();
  await t.throwsAsync(publisher.deliver("homeassistant/device/pipdu_pdu1/config", "{}", true), {
    message: /broker unreachable/,
  });
  t.deepEqual(published, []);
});

/**
 * A broker on an in-memory stream that records every publish it receives. On the first connection it never
 * acknowledges a publish; `drop()` ends that connection as a broker restart would, and later connections
 * acknowledge.
 */
function silentBroker(): { builder: () => Duplex; received: string[]; drop: () => void } {
  const received: string[] = [];
  let current: Duplex | null = null;
  let connections = 0;
  const builder = (): Duplex => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const acknowledge = ++connections > 1;
    const stream = new Duplex({
      read: () => undefined,
      write(chunk: Buffer, _encoding, done) {
        parser.parse(chunk);
        done();
      },
    });
    const send = (packet: mqttPacket.Packet): void => {
      stream.push(mqttPacket.generate(packet));
    };
    parser.on("packet", (packet) => {
      if (packet.cmd === "connect") send({ cmd: "connack", returnCode: 0, sessionPresent: false });
      if (packet.cmd === "subscribe")
        send({ cmd: "suback", messageId: packet.messageId ?? 0, granted: packet.subscriptions.map(() => 1) });
      if (packet.cmd !== "publish") return;
      received.push(`${packet.topic} ${packet.payload.toString()}`);
      if (acknowledge && packet.qos === 1) send({ cmd: "puback", messageId: packet.messageId ?? 0 });
    });
    current = stream;
    return stream;
  };
  return { builder, received, drop: () => current?.destroy() };
}

test("an online unacknowledged when the connection drops is not sent again on the next connection, other publishes are", async (t) => {
  const broker = silentBroker();
  const client = new MqttClient(broker.builder, { protocolVersion: 4, reconnectPeriod: 20, clean: true });
  t.teardown(() => client.end(true));
  await new Promise((resolve) => client.once("connect", resolve));
  const publisher = new Publisher(new Topics("pipdu"), "pdu1", createLogger({ silent: true }));
  publisher.attach(client);
  publisher.commandsSubscribed();
  void publisher.availability(true);
  void publisher.publish("pipdu/pdu1/result", "{}", false);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.deepEqual(broker.received, ["pipdu/pdu1/availability online", "pipdu/pdu1/result {}"]);
  broker.received.length = 0;
  broker.drop();
  await new Promise((resolve) => client.once("connect", resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
  // The result is resent (QoS 1, at least once); the online is left for the agent's own announcement.
  t.deepEqual(broker.received, ["pipdu/pdu1/result {}"]);
});

test("availability is not queued while disconnected", async (t) => {
  const publisher = new Publisher(new Topics("pipdu"), "pdu1", createLogger({ silent: true }));
  const { client, published } = brokerGone();
  publisher.attach(client);
  await publisher.availability(true);
  t.deepEqual(published, []);
});

test("online is not said on a connection before the commands are subscribed there; offline is", async (t) => {
  const broker = silentBroker();
  const client = new MqttClient(broker.builder, { protocolVersion: 4, reconnectPeriod: 0, clean: true });
  t.teardown(() => client.end(true));
  await new Promise((resolve) => client.once("connect", resolve));
  const publisher = new Publisher(new Topics("pipdu"), "pdu1", createLogger({ silent: true }));
  publisher.attach(client);
  void publisher.availability(true);
  void publisher.availability(false);
  publisher.commandsSubscribed();
  void publisher.availability(true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.deepEqual(broker.received, ["pipdu/pdu1/availability offline", "pipdu/pdu1/availability online"]);
});

test("a client ended while a reconnect waits for its CONNACK does not crash the publisher", async (t) => {
  // A broker that accepts the first connection, drops it, then accepts and never answers: the client is
  // mid-reconnect when it is ended, its stores close on the next tick, and its socket's close comes after.
  let connections = 0;
  const server = net.createServer((socket) => {
    socket.on("error", () => undefined);
    if (++connections === 1)
      socket.once("data", () => {
        socket.write(Buffer.from([0x20, 2, 0, 0]));
        setTimeout(() => socket.destroy(), 50);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 100 });
  client.on("error", () => undefined);
  await new Promise((resolve) => client.once("connect", resolve));
  const publisher = new Publisher(new Topics("pipdu"), "pdu1", createLogger({ silent: true }));
  publisher.attach(client);
  const crashes: Error[] = [];
  const onCrash = (err: Error): void => void crashes.push(err);
  process.on("uncaughtException", onCrash);
  t.teardown(() => process.off("uncaughtException", onCrash));
  await new Promise((resolve) => setTimeout(resolve, 400));
  client.end(true);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.deepEqual(
    crashes.map((e) => e.message),
    [],
  );
});

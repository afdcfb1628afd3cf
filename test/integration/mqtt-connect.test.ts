// How piPDU's parts connect: MQTT 5 where the broker speaks it (in-process to the embedded broker, without
// probing), and with `protocol: auto` a fallback to 3.1.1 for brokers that refuse MQTT 5.
import { connect, createServer, type Socket } from "node:net";
import test, { type ExecutionContext } from "ava";
import { EmbeddedBroker } from "../../broker/embedded-broker.ts";
import { connectMqtt } from "../../lib/mqtt-connect.ts";
import winston from "winston";
import { createLogger, type Logger } from "../../log/logger.ts";
import { nextMessage } from "../helpers/mqtt-clients.ts";

async function startBroker(t: ExecutionContext): Promise<{ broker: EmbeddedBroker; port: number }> {
  const broker = new EmbeddedBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: null,
    stateDir: null,
    logger: createLogger({ level: "error" }),
  });
  t.teardown(() => broker.stop());
  const { port } = await broker.start();
  return { broker, port };
}

/** A logger that keeps its messages, to check what a connect said. */
function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = winston.createLogger({
    level: "debug",
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's types split Transport
    transports: [new winston.transports.Console({ silent: true })],
  });
  logger.on("data", (info: { message: unknown }) => lines.push(String(info.message)));
  return { logger, lines };
}

/**
 * A 3.1.1-only broker: forwards to `port` but drops any connection whose CONNECT asks for MQTT 5, as
 * brokers that do not speak it do (some answer CONNACK 1, some just close).
 */
async function mqtt311Only(t: ExecutionContext, port: number): Promise<number> {
  const server = createServer((client: Socket) => {
    client.once("data", (first: Buffer) => {
      // CONNECT: fixed header, remaining length (1–4 bytes), "MQTT" (2 + 4 bytes), then the protocol level.
      let i = 1;
      while (((first[i] ?? 0) & 0x80) !== 0) i++;
      if (first[i + 7] === 5) return void client.destroy();
      const upstream = connect(port, "127.0.0.1", () => upstream.write(first));
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

test("with protocol auto, a part falls back to MQTT 3.1.1 on a broker that refuses MQTT 5, and works", async (t) => {
  const { port } = await startBroker(t);
  const proxy = await mqtt311Only(t, port);
  const { logger, lines } = recordingLogger();
  const client = await connectMqtt({
    url: `mqtt://127.0.0.1:${proxy}`,
    clientId: "fallback-test",
    protocol: "auto",
    logger,
  });
  t.teardown(() => client.endAsync(true));
  t.is(client.options.protocolVersion, 4);
  t.true(lines.some((line) => /refused MQTT 5/.test(line)));
  await client.subscribeAsync("pipdu/x", { qos: 1 });
  const received = nextMessage(client, "pipdu/x");
  await client.publishAsync("pipdu/x", "over 3.1.1", { qos: 1 });
  t.is((await received).payload, "over 3.1.1");
});

test("with protocol auto, a part connects to the embedded broker with MQTT 5 at the first attempt", async (t) => {
  const { port } = await startBroker(t);
  const { logger, lines } = recordingLogger();
  const client = await connectMqtt({
    url: `mqtt://127.0.0.1:${port}`,
    clientId: "v5-test",
    protocol: "auto",
    logger,
  });
  t.teardown(() => client.endAsync(true));
  t.is(client.options.protocolVersion, 5);
  t.deepEqual(lines, [`connected to mqtt://127.0.0.1:${port} with MQTT 5`]);
});

test("an in-process part connects over a stream with MQTT 5 and reconnects over a new one", async (t) => {
  const { broker } = await startBroker(t);
  const { logger } = recordingLogger();
  let streams = 0;
  const client = await connectMqtt({
    url: "mqtt://in-process",
    clientId: "stream-test",
    protocol: "auto",
    logger,
    reconnectSeconds: 0.05,
    stream: () => {
      streams++;
      return broker.connectInProcess();
    },
  });
  t.teardown(() => client.endAsync(true));
  t.is(client.options.protocolVersion, 5);
  const reconnected = new Promise((resolve) => client.once("connect", resolve));
  client.stream.destroy();
  await reconnected;
  t.is(streams, 2);
  await client.subscribeAsync("pipdu/y", { qos: 1 });
  const received = nextMessage(client, "pipdu/y");
  await client.publishAsync("pipdu/y", "again", { qos: 1 });
  t.is((await received).payload, "again");
});

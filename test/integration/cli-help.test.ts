// `pipdu <command> --help` as its own process does nothing but print: it binds no port, connects to no
// broker, and `ha remove --help` leaves Home Assistant's device in place.
import net from "node:net";
import test, { type ExecutionContext } from "ava";
import { COMMANDS } from "../../cli/commands.ts";
import { connectClient, nextMessage } from "../helpers/mqtt-clients.ts";
import { exited, spawnPipdu, startBroker, tempDir } from "../helpers/system.ts";

/** A listener that only counts who connects: every port a command could use is held by one. */
async function counter(t: ExecutionContext): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, connections: () => connections };
}

test("--help of every command binds no port and connects to nothing", async (t) => {
  const [mqtt, broker, ws, http, pdudaemon, panel] = await Promise.all(
    Array.from({ length: 6 }, () => counter(t)),
  );
  const env = {
    PIPDU_STATE_DIR: tempDir(t),
    PIPDU_HARDWARE: "sim",
    PIPDU_MQTT_URL: `mqtt://127.0.0.1:${mqtt?.port ?? 0}`,
    PIPDU_BROKER_HOST: "127.0.0.1",
    PIPDU_BROKER_PORT: String(broker?.port ?? 0),
    PIPDU_BROKER_WS_PORT: String(ws?.port ?? 0),
    PIPDU_HTTP_PORT: String(http?.port ?? 0),
    PIPDU_PDUDAEMON_PORT: String(pdudaemon?.port ?? 0),
    PIPDU_GATEWAY_HOST: "127.0.0.1",
    PIPDU_PANEL_PORT: String(panel?.port ?? 0),
  };
  for (const { name } of COMMANDS) {
    const child = spawnPipdu(t, [...name.split(" "), "--help"], env);
    t.is(await exited(child), 0, `${name}: ${child.output()}`);
    t.true(child.output().startsWith(`usage: pipdu ${name}`), `${name}: ${child.output()}`);
  }
  for (const [what, listener] of Object.entries({ mqtt, broker, ws, http, pdudaemon, panel }))
    t.is(listener?.connections(), 0, what);
});

test("ha remove --help leaves the retained discovery, so Home Assistant keeps the device", async (t) => {
  const broker = await startBroker(t, "embedded");
  const topic = "homeassistant/device/pipdu_pdu1/config";
  const publisher = await connectClient(t, broker.url);
  await publisher.publishAsync(topic, '{"dev":{"ids":["pipdu_pdu1"]}}', { qos: 1, retain: true });
  const child = spawnPipdu(t, ["ha", "remove", "--help"], {
    PIPDU_STATE_DIR: tempDir(t),
    PIPDU_MQTT_URL: broker.url,
  });
  t.is(await exited(child), 0, child.output());
  t.regex(child.output(), /^usage: pipdu ha remove/);
  const reader = await connectClient(t, broker.url);
  const retained = nextMessage(reader, topic);
  await reader.subscribeAsync(topic, { qos: 1 });
  const message = await retained;
  t.is(message.payload, '{"dev":{"ids":["pipdu_pdu1"]}}');
  t.true(message.packet.retain);
});

test("a mistyped PIPDU_ variable is reported when a part starts, which still runs", async (t) => {
  const child = spawnPipdu(t, ["broker"], {
    PIPDU_STATE_DIR: tempDir(t),
    PIPDU_BROKER_PORT: "0",
    PIPDU_BROKER_WS_PORT: "0",
    PIPDU_BROKR_HOST: "0.0.0.0",
  });
  for (let i = 0; i < 400 && !child.output().includes("piPDU broker:"); i++)
    await new Promise((r) => setTimeout(r, 25));
  t.regex(
    child.output(),
    /PIPDU_BROKR_HOST is not a setting and is ignored \(did you mean PIPDU_BROKER_HOST\?\)/,
  );
  t.regex(child.output(), /piPDU broker: mqtt:\/\/127\.0\.0\.1:\d+/);
  child.kill("SIGTERM");
  t.is(await exited(child), 0);
});

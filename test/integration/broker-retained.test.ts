// What the embedded broker retains: piPDU's topics and discovery only, within size caps, written in
// coalesced writes; junk never outlives a restart.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import { EmbeddedBroker, type BrokerOptions } from "../../broker/embedded-broker.ts";
import { silentLogger } from "../../log/logger.ts";
import { collectMessages, connectClient, nextMessage, tempDir } from "../helpers/mqtt-clients.ts";
import { eventually } from "../helpers/system.ts";

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

/**
 * Topics replayed to a new subscriber of `filters` (retained messages), in arrival order: once `expected`
 * have arrived, a marker published after them shows whether anything more was replayed.
 */
async function replayed(
  t: ExecutionContext,
  url: string,
  filters: string[],
  expected: number,
): Promise<string[]> {
  const client = await connectClient(t, url);
  const seen = collectMessages(client);
  await client.subscribeAsync([...filters, "pipdu/marker"], { qos: 1 });
  await eventually(`${expected} retained messages`, () => (seen.length >= expected ? true : undefined));
  const marker = nextMessage(client, "pipdu/marker");
  await client.publishAsync("pipdu/marker", "sync", { qos: 1 });
  await marker;
  return seen.filter((m) => m.packet.retain).map((m) => m.topic);
}

test("a retained message outside piPDU's topics and discovery is delivered live but not kept", async (t) => {
  const { url } = await startBroker(t);
  const live = await connectClient(t, url);
  await live.subscribeAsync("junk/#", { qos: 1 });
  const delivered = nextMessage(live, "junk/big");
  const publisher = await connectClient(t, url);
  await publisher.publishAsync("junk/big", "x".repeat(1000), { qos: 1, retain: true });
  await publisher.publishAsync("pipdu/pdu1/availability", "online", { qos: 1, retain: true });
  await publisher.publishAsync("homeassistant/device/pdu1/config", "{}", { qos: 1, retain: true });
  t.is((await delivered).payload.length, 1000);
  t.deepEqual((await replayed(t, url, ["#"], 2)).sort(), [
    "homeassistant/device/pdu1/config",
    "pipdu/pdu1/availability",
  ]);
});

test("broker.retainTopics keeps further topic trees", async (t) => {
  const { url } = await startBroker(t, { retainTopics: ["zigbee2mqtt"] });
  const publisher = await connectClient(t, url);
  await publisher.publishAsync("zigbee2mqtt/bridge/state", "online", { qos: 1, retain: true });
  await publisher.publishAsync("junk/a", "x", { qos: 1, retain: true });
  t.deepEqual(await replayed(t, url, ["#"], 1), ["zigbee2mqtt/bridge/state"]);
});

test("retained messages over the size caps are not kept; deleting one makes room again", async (t) => {
  const { url } = await startBroker(t, { retained: { maxMessageBytes: 500, maxTotalBytes: 1000 } });
  const publisher = await connectClient(t, url);
  await publisher.publishAsync("pipdu/pdu1/info", "x".repeat(501), { qos: 1, retain: true });
  for (const n of [1, 2, 3, 4]) {
    await publisher.publishAsync(`pipdu/pdu1/outlet/${n}/state`, "x".repeat(300), { qos: 1, retain: true });
  }
  t.deepEqual((await replayed(t, url, ["pipdu/#"], 3)).sort(), [
    "pipdu/pdu1/outlet/1/state",
    "pipdu/pdu1/outlet/2/state",
    "pipdu/pdu1/outlet/3/state",
  ]);
  await publisher.publishAsync("pipdu/pdu1/outlet/1/state", "", { qos: 1, retain: true });
  await publisher.publishAsync("pipdu/pdu1/outlet/4/state", "x".repeat(300), { qos: 1, retain: true });
  t.deepEqual((await replayed(t, url, ["pipdu/#"], 3)).sort(), [
    "pipdu/pdu1/outlet/2/state",
    "pipdu/pdu1/outlet/3/state",
    "pipdu/pdu1/outlet/4/state",
  ]);
});

test("junk in a retained store written before is not restored and leaves the file", async (t) => {
  const stateDir = await tempDir(t);
  const file = path.join(stateDir, "retained.json");
  const message = (topic: string) => ({
    topic,
    payload: { $base64: Buffer.from("v").toString("base64") },
    qos: 1,
    storedAt: Date.now(),
  });
  await writeFile(
    file,
    JSON.stringify({ version: 1, messages: [message("junk/a"), message("pipdu/pdu1/availability")] }),
  );
  const { broker, url } = await startBroker(t, { stateDir, retainedFlushDelayMs: 0 });
  t.deepEqual(await replayed(t, url, ["#"], 1), ["pipdu/pdu1/availability"]);
  await broker.stop();
  const kept = JSON.parse(await readFile(file, "utf8")) as { messages: { topic: string }[] };
  t.deepEqual(
    kept.messages.map((m) => m.topic),
    ["pipdu/pdu1/availability"],
  );
});

test("a burst of 500 retained messages is written to disk in a few writes, not one per message", async (t) => {
  const stateDir = await tempDir(t);
  const { broker, url } = await startBroker(t, { stateDir, retainedFlushDelayMs: 100 });
  const publisher = await connectClient(t, url);
  for (let i = 0; i < 500; i++)
    publisher.publish(`pipdu/pdu${i}/availability`, "online", { qos: 0, retain: true });
  await publisher.publishAsync("pipdu/last/availability", "online", { qos: 1, retain: true });
  await broker.stop();
  const kept = JSON.parse(await readFile(path.join(stateDir, "retained.json"), "utf8")) as {
    messages: unknown[];
  };
  t.is(kept.messages.length, 501);
  t.true(broker.retainedWrites < 50, `${broker.retainedWrites} writes`);
});

// The embedded broker's built-in policy: only piPDU's own parts speak for a PDU, and nobody takes a part's
// client id. Parts connect in-process (pipdu start) or, in split layouts, as users named as parts.
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import type { IClientOptions } from "mqtt";
import { EmbeddedBroker, type BrokerOptions } from "../../broker/embedded-broker.ts";
import { setPassword } from "../../broker/password-file.ts";
import { connectMqtt } from "../../lib/mqtt-connect.ts";
import { silentLogger } from "../../log/logger.ts";
import {
  closed,
  collectMessages,
  connectClient,
  connectionRefusal,
  nextMessage,
  tempDir,
} from "../helpers/mqtt-clients.ts";

const PARTS_ONLY = [
  "pipdu/pdu1/availability",
  "pipdu/pdu1/result",
  "pipdu/pdu1/info",
  "pipdu/pdu1/outlet/3/state",
  "pipdu/response/gateway-1/x",
  "homeassistant/device/pipdu_pdu1/config",
];

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
    parts: { enforce: true, reservedClientIds: ["pipdu-pdu1"] },
    ...options,
  });
  t.teardown(() => broker.stop());
  const { port } = await broker.start();
  return { broker, url: `mqtt://127.0.0.1:${port}` };
}

async function inProcessPart(t: ExecutionContext, broker: EmbeddedBroker, clientId: string) {
  const client = await connectMqtt({
    url: "mqtt://in-process",
    clientId,
    protocol: "auto",
    logger: silentLogger(),
    stream: () => broker.connectInProcess(),
  });
  t.teardown(() => client.endAsync(true));
  return client;
}

async function watch(t: ExecutionContext, url: string) {
  const watcher = await connectClient(t, url, { protocolVersion: 5 });
  const seen = collectMessages(watcher);
  await watcher.subscribeAsync(["pipdu/#", "homeassistant/#"], { qos: 1 });
  const sync = async (): Promise<void> => {
    const marker = nextMessage(watcher, "pipdu/marker");
    await watcher.publishAsync("pipdu/marker", "sync", { qos: 1 });
    await marker;
  };
  return { seen, sync };
}

for (const protocolVersion of [4, 5] as const) {
  test(`an MQTT ${protocolVersion === 5 ? "5" : "3.1.1"} network client cannot publish PDU state, results, info, responses or discovery; nothing is retained`, async (t) => {
    const { url } = await startBroker(t);
    const { seen, sync } = await watch(t, url);
    const intruder = await connectClient(t, url, { protocolVersion });
    for (const topic of PARTS_ONLY) await intruder.publishAsync(topic, "offline", { qos: 1, retain: true });
    t.true(intruder.connected, "acknowledged and dropped, as an ACL denial");
    await sync();
    t.deepEqual(
      seen.map((m) => m.topic),
      ["pipdu/marker"],
    );
    const later = await connectClient(t, url);
    const replayed = collectMessages(later);
    await later.subscribeAsync(["pipdu/#", "homeassistant/#"], { qos: 1 });
    const marker = nextMessage(later, "pipdu/marker");
    await later.publishAsync("pipdu/marker", "again", { qos: 1 });
    await marker;
    t.deepEqual(
      replayed.map((m) => m.topic),
      ["pipdu/marker"],
    );
  });
}

test("a part connected in-process publishes state, results, responses and discovery, with MQTT 5", async (t) => {
  const { broker, url } = await startBroker(t);
  const { seen, sync } = await watch(t, url);
  const agent = await inProcessPart(t, broker, "pipdu-pdu1");
  t.is(agent.options.protocolVersion, 5);
  for (const topic of PARTS_ONLY) await agent.publishAsync(topic, "online", { qos: 1 });
  await sync();
  t.deepEqual(
    seen.map((m) => m.topic).filter((topic) => topic !== "pipdu/marker"),
    PARTS_ONLY,
  );
});

test("anyone may publish commands and Home Assistant's status; commands carry the publisher's client id, not a forged one", async (t) => {
  const { url } = await startBroker(t);
  const { seen, sync } = await watch(t, url);
  const v5 = await connectClient(t, url, { protocolVersion: 5, clientId: "lab-script" });
  const v4 = await connectClient(t, url, { protocolVersion: 4, clientId: "old-tool" });
  await v5.publishAsync("pipdu/pdu1/outlet/3/set", "ON", {
    qos: 1,
    properties: { userProperties: { client_id: "pipdu-gateway", source: "cli" } },
  });
  await v4.publishAsync("pipdu/pdu1/set", '{"action":"all_off"}', { qos: 1 });
  await v4.publishAsync("pipdu/pdu1/outlet/2/power_on_behavior/set", "off", { qos: 1 });
  await v5.publishAsync("homeassistant/status", "online", { qos: 1 });
  await sync();
  const byTopic = new Map(seen.map((m) => [m.topic, m.packet.properties?.userProperties]));
  t.deepEqual(byTopic.get("pipdu/pdu1/outlet/3/set"), { client_id: "lab-script", source: "cli" });
  t.deepEqual(byTopic.get("pipdu/pdu1/set"), { client_id: "old-tool" });
  t.deepEqual(byTopic.get("pipdu/pdu1/outlet/2/power_on_behavior/set"), { client_id: "old-tool" });
  t.true(byTopic.has("homeassistant/status"));
});

test("a network client cannot take over the client id of a part; the part stays connected", async (t) => {
  const { broker, url } = await startBroker(t);
  const refused = await connectionRefusal(t, url, { clientId: "pipdu-pdu1" });
  t.regex(String(refused), /identifier rejected/i, "the agent's id is reserved before it connects");
  const panel = await inProcessPart(t, broker, "pipdu-panel-abc");
  const refusal = await connectionRefusal(t, url, { clientId: "pipdu-panel-abc", protocolVersion: 5 });
  t.regex(String(refusal), /identifier|not valid/i);
  t.true(panel.connected);
  const echoed = nextMessage(panel, "pipdu/pdu1/outlet/1/set");
  await panel.subscribeAsync("pipdu/pdu1/outlet/1/set", { qos: 1 });
  await panel.publishAsync("pipdu/pdu1/outlet/1/set", "ON", { qos: 1 });
  t.is((await echoed).payload, "ON");
});

test("in a split layout a user named as a part may publish state and use a part's id; other users may not", async (t) => {
  const dir = await tempDir(t);
  const passwordFile = path.join(dir, "passwd");
  await setPassword(passwordFile, "agent", "agent-pw", 101);
  await setPassword(passwordFile, "viewer", "viewer-pw", 101);
  const { url } = await startBroker(t, {
    passwordFile,
    parts: { enforce: true, partUsers: ["agent"], reservedClientIds: ["pipdu-pdu1"] },
  });
  const { seen, sync } = await watch(t, url);
  const asAgent: IClientOptions = { clientId: "pipdu-pdu1", username: "agent", password: "agent-pw" };
  const agent = await connectClient(t, url, asAgent);
  await agent.publishAsync("pipdu/pdu1/availability", "online", { qos: 1, retain: true });
  const viewer = await connectClient(t, url, { username: "viewer", password: "viewer-pw" });
  await viewer.publishAsync("pipdu/pdu1/availability", "offline", { qos: 1, retain: true });
  const refusal = await connectionRefusal(t, url, {
    clientId: "pipdu-pdu1",
    username: "viewer",
    password: "viewer-pw",
  });
  t.regex(String(refusal), /identifier rejected/i);
  await sync();
  t.deepEqual(
    seen.filter((m) => m.topic !== "pipdu/marker").map((m) => `${m.topic}=${m.payload}`),
    ["pipdu/pdu1/availability=online"],
  );
  const gone = closed(agent);
  const again = await connectClient(t, url, asAgent); // the part itself may reconnect with its id (takeover)
  await gone;
  t.true(again.connected);
});

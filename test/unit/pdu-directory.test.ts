import { EventEmitter } from "node:events";
import test from "ava";
import type { IPublishPacket, MqttClient } from "mqtt";
import { MAX_PDUS, MAX_UNLISTED, PduDirectory } from "../../client/pdu-directory.ts";
import { Topics } from "../../protocol/topics.ts";

/** The part of an MQTT client the directory uses; messages are delivered by hand. */
class FakeClient extends EventEmitter {
  readonly published: { topic: string; payload: string; opts: { properties?: Record<string, unknown> } }[] =
    [];
  constructor(readonly options: { protocolVersion: 4 | 5; clientId: string }) {
    super();
  }
  subscribeAsync(): Promise<unknown[]> {
    return Promise.resolve([]);
  }
  publishAsync(
    topic: string,
    payload: string,
    opts: { properties?: Record<string, unknown> },
  ): Promise<void> {
    this.published.push({ topic, payload, opts });
    return Promise.resolve();
  }
  deliver(topic: string, payload: string | Buffer, properties: Record<string, unknown> = {}): void {
    const packet = { cmd: "publish", topic, properties } as unknown as IPublishPacket;
    this.emit("message", topic, Buffer.from(payload), packet);
  }
}

async function directory(protocolVersion: 4 | 5 = 4) {
  const client = new FakeClient({ protocolVersion, clientId: "pipdu-gateway-test" });
  const dir = new PduDirectory(client as unknown as MqttClient, new Topics("pipdu"), "gateway");
  await dir.start();
  return { client, dir };
}

function info(pdu: string, outlets = 2): string {
  return JSON.stringify({
    pdu,
    name: pdu.toUpperCase(),
    outlets: Array.from({ length: outlets }, (_, i) => ({
      number: i + 1,
      name: `O${i + 1}`,
      protected: false,
    })),
    firmware: { version: "1", hardware: "sim" },
    agent: { version: "1" },
    mains: { voltage: 230, voltageSource: "configured", powerFactor: 1, frequency: 50 },
    limits: { maxDelay: 3600, defaultCycleDelay: 5, maxPayloadBytes: 1024, maxCurrent: 16 },
  });
}

test("a PDU is listed only once it publishes a valid info naming itself", async (t) => {
  const { client, dir } = await directory();
  client.deliver("pipdu/a/availability", "online");
  client.deliver("pipdu/a/outlet/1/state", "ON");
  t.deepEqual(dir.list(), []);
  client.deliver("pipdu/a/info", '{"outlets":[null]}');
  client.deliver("pipdu/a/info", info("b"));
  t.deepEqual(dir.list(), []);
  client.deliver("pipdu/a/info", info("a"));
  const [pdu] = dir.list();
  t.like(pdu, { id: "a", name: "A", online: true });
  t.is(pdu?.outlets.get(1)?.state, "ON", "what came before the info is kept");
  t.deepEqual(
    dir.guard.dropped().map((d) => `${d.kind} ${d.reason} ${d.count}`),
    ["info invalid 1", "info pdu_mismatch 1"],
  );
});

test("a malformed info or reading changes nothing that is listed", async (t) => {
  const { client, dir } = await directory();
  client.deliver("pipdu/a/info", info("a"));
  client.deliver("pipdu/a/outlet/2/power", "12.5");
  for (const bad of ['{"outlets":[]}', "null", '{"pdu":"a","outlets":[{"number":1}]}'])
    client.deliver("pipdu/a/info", bad);
  for (const bad of ["-1", "1e999", "NaN", "", "12,5", "\u0000"])
    client.deliver("pipdu/a/outlet/2/power", bad);
  client.deliver("pipdu/a/outlet/9/state", "ON"); // not an outlet of its info
  client.deliver("pipdu/a/availability", "ONLINE");
  const pdu = dir.get("a");
  t.is(pdu?.outlets.size, 2);
  t.is(pdu?.outlets.get(2)?.power, 12.5);
  t.false(pdu?.outlets.has(9));
  t.false(pdu?.online);
});

test(`junk under <base>/<id>/… does not grow the directory: ${MAX_UNLISTED} unlisted PDUs held at most, oldest forgotten`, async (t) => {
  const { client, dir } = await directory();
  for (let i = 0; i < 5000; i++) client.deliver(`pipdu/junk${i}/outlet/1/state`, "ON");
  // A PDU whose readings came early is listed with them if it is among the newest; the oldest were dropped.
  client.deliver("pipdu/junk4999/info", info("junk4999"));
  client.deliver("pipdu/junk0/info", info("junk0"));
  t.is(dir.get("junk4999")?.outlets.get(1)?.state, "ON");
  t.is(dir.get("junk0")?.outlets.get(1)?.state, null);
  t.is(dir.list().length, 2);
});

test(`at most ${MAX_PDUS} PDUs are listed; more infos are dropped and counted`, async (t) => {
  const { client, dir } = await directory();
  for (let i = 0; i < MAX_PDUS + 50; i++) client.deliver(`pipdu/p${i}/info`, info(`p${i}`));
  t.is(dir.list().length, MAX_PDUS);
  t.like(
    dir.guard.dropped().find((d) => d.reason === "directory_full"),
    { kind: "info", count: 50 },
  );
  client.deliver("pipdu/p0/info", info("p0", 3)); // a listed PDU still updates
  t.is(dir.get("p0")?.outlets.size, 3);
});

test("MQTT 3.1.1: only a result on the commanded PDU's topic with the command's transaction answers it", async (t) => {
  const { client, dir } = await directory(4);
  client.deliver("pipdu/a/info", info("a"));
  client.deliver("pipdu/b/info", info("b"));
  const answer = dir.command("a", 1, { action: "on" }, 1000);
  const sent = JSON.parse(client.published[0]?.payload ?? "{}") as { transaction: string };
  t.regex(sent.transaction, /^gateway-[0-9a-f]{32}$/, "128 random bits");
  const ok = (pdu: string, outlet: number, transaction: string): void =>
    client.deliver(
      `pipdu/${pdu}/result`,
      JSON.stringify({ outlet, command: "on", transaction, status: "ok", state: "ON" }),
    );
  ok("b", 1, sent.transaction); // another PDU
  ok("a", 2, sent.transaction); // another outlet
  ok("a", 1, "gateway-0000");
  client.deliver(
    "pipdu/a/result",
    '{"outlet":1,"status":"error","error":{"code":"hardware_error","message":"x"},',
  );
  ok("a", 1, sent.transaction);
  t.like(await answer, { status: "ok", outlet: 1 });
});

test("MQTT 5: only a response on our own response topic with the command's correlation data answers it", async (t) => {
  const { client, dir } = await directory(5);
  client.deliver("pipdu/a/info", info("a"));
  const answer = dir.command("a", 1, { action: "off" }, 1000, "rest 10.0.0.5");
  const [sent] = client.published;
  const props = sent?.opts.properties ?? {};
  t.is(props["responseTopic"], "pipdu/response/pipdu-gateway-test/result");
  t.deepEqual(props["userProperties"], { source: "rest 10.0.0.5" });
  const correlation = props["correlationData"] as Buffer;
  t.is(correlation.length, 16);
  const { transaction } = JSON.parse(sent?.payload ?? "{}") as { transaction: string };
  const forged = JSON.stringify({ outlet: 1, command: "off", transaction, status: "ok", state: "OFF" });
  client.deliver("pipdu/a/result", forged); // the PDU's public topic: not an answer under MQTT 5
  client.deliver("pipdu/response/pipdu-gateway-test/result", forged, {
    correlationData: Buffer.alloc(16),
  });
  const real = JSON.stringify({
    outlet: 1,
    command: "off",
    transaction,
    status: "error",
    error: { code: "protected_outlet", message: "needs force" },
  });
  client.deliver("pipdu/response/pipdu-gateway-test/result", real, { correlationData: correlation });
  t.like(await answer, { status: "error", error: { code: "protected_outlet" } });
  t.deepEqual(
    dir.guard.dropped().map((d) => `${d.kind} ${d.reason}`),
    ["response unsolicited"],
  );
});

test("an exception in a change listener is counted and logged, not thrown into the MQTT client", async (t) => {
  const { client, dir } = await directory();
  dir.on("change", () => {
    throw new Error("listener bug");
  });
  t.notThrows(() => client.deliver("pipdu/a/info", info("a")));
  t.like(dir.guard.dropped()[0], { kind: "message", reason: "handler_error", count: 1 });
});

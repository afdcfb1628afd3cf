import { EventEmitter } from "node:events";
import test from "ava";
import type { MqttClient } from "mqtt";
import { PduActivity } from "../../client/pdu-activity.ts";
import { Topics } from "../../protocol/topics.ts";

/** The little of an MQTT client PduActivity uses: messages, connect/close, subscribe. */
class FakeClient extends EventEmitter {
  connected = true;
  subscribed: string[] = [];
  subscribeAsync(filters: string[]): Promise<void> {
    this.subscribed.push(...filters);
    return Promise.resolve();
  }
  deliver(topic: string, payload: string): void {
    this.emit("message", topic, Buffer.from(payload));
  }
}

async function setup() {
  let now = 1_000_000;
  const client = new FakeClient();
  const activity = new PduActivity(client as unknown as MqttClient, new Topics("pipdu"), () => now);
  await activity.start();
  const changes: string[] = [];
  activity.on("change", (pdu) => changes.push(pdu));
  return {
    client,
    activity,
    changes,
    advance: (ms: number): void => {
      now += ms;
      activity.checkSilence();
    },
  };
}

test("a PDU whose telemetry stops for five of its intervals (at least 4 s) is stale until it is heard again", async (t) => {
  const { client, activity, changes, advance } = await setup();
  t.teardown(() => activity.stop());
  t.deepEqual(client.subscribed, [
    "pipdu/+/pending",
    "pipdu/+/alarm",
    "pipdu/+/telemetry",
    "pipdu/+/outlet/+/fault",
  ]);
  for (let i = 0; i < 20; i++) {
    client.deliver("pipdu/pdu1/telemetry", "{}");
    advance(1000);
  }
  t.true(activity.live("pdu1"));
  advance(3000);
  t.true(activity.live("pdu1"), "4 s of silence at a 1 s interval is not yet five intervals");
  advance(1500);
  t.false(activity.live("pdu1"));
  t.true(activity.json("pdu1").stale);
  t.deepEqual(changes, ["pdu1"]);
  client.deliver("pipdu/pdu1/telemetry", "{}");
  t.true(activity.live("pdu1"));
  t.deepEqual(changes, ["pdu1", "pdu1"]);
  t.true(activity.live("never-heard"), "a PDU that never sent telemetry is not judged by it");
});

test("losing the broker makes every PDU not live and says so once", async (t) => {
  const { client, activity, changes } = await setup();
  t.teardown(() => activity.stop());
  client.deliver("pipdu/pdu1/telemetry", "{}");
  const links: boolean[] = [];
  activity.on("link", (up) => links.push(up));
  client.emit("close");
  client.emit("close");
  t.false(activity.link);
  t.false(activity.live("pdu1"));
  client.emit("connect");
  t.deepEqual(links, [false, true]);
  t.deepEqual(changes, ["pdu1", "pdu1"]);
  t.true(activity.live("pdu1"));
});

test("pending actions, alarm and faults are read with every bad field or payload left out", async (t) => {
  const { client, activity } = await setup();
  t.teardown(() => activity.stop());
  client.deliver(
    "pipdu/pdu1/pending",
    JSON.stringify([
      { id: 3, outlet: 4, action: "cycle", dueAt: 1795461151252 },
      { id: 10005, outlet: 5, action: "on", dueAt: null, source: "cold_start" },
      { id: "x", outlet: 4, action: "on" },
      null,
    ]),
  );
  client.deliver("pipdu/pdu1/outlet/2/fault", "welded_relay");
  client.deliver("pipdu/pdu1/outlet/99/fault", "dead_load");
  client.deliver("pipdu/pdu1/outlet/3/fault", "melted");
  client.deliver(
    "pipdu/pdu1/alarm",
    JSON.stringify({ active: true, current: 17.2, limit: 16, shed: [12, "x"] }),
  );
  client.deliver("pipdu/Bad Id/alarm", JSON.stringify({ active: true }));
  t.deepEqual(activity.json("pdu1"), {
    stale: false,
    pending: [
      { id: 3, outlet: 4, action: "cycle", dueAt: 1795461151252, source: "command" },
      { id: 10005, outlet: 5, action: "on", dueAt: null, source: "cold_start" },
    ],
    alarm: { active: true, current: 17.2, limit: 16, since: null, outlets: [], shed: [12] },
    faults: { "2": "welded_relay" },
  });
  client.deliver("pipdu/pdu1/pending", "[]");
  client.deliver("pipdu/pdu1/outlet/2/fault", "none");
  client.deliver("pipdu/pdu1/alarm", "");
  t.deepEqual(activity.json("pdu1"), { stale: false, pending: [], alarm: null, faults: {} });
});

// Small parts of the pdu-agent on their own: who sent a command, where unexpected errors go, how often the
// pending list is published.
import test from "ava";
import type { IPublishPacket } from "mqtt";
import { silentLogger } from "../../log/logger.ts";
import { sourceOf } from "../../pdu-agent/command-router.ts";
import { ErrorSink } from "../../pdu-agent/error-sink.ts";
import { OutletStateStore } from "../../pdu-agent/outlet-state.ts";
import { PendingPublisher } from "../../pdu-agent/pending-publisher.ts";
import { Publisher } from "../../pdu-agent/publisher.ts";
import { Topics } from "../../protocol/topics.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";

const packet = (userProperties?: Record<string, string | string[]>): IPublishPacket => ({
  cmd: "publish",
  topic: "pipdu/pdu1/outlet/1/set",
  payload: "ON",
  qos: 1,
  dup: false,
  retain: false,
  ...(userProperties ? { properties: { userProperties } } : {}),
});

test("a command's source: the source property, else the broker-stamped client id, else mqtt", (t) => {
  t.is(sourceOf(packet({ source: "rest 10.0.0.7" })), "rest 10.0.0.7");
  t.is(sourceOf(packet({ client_id: "lab-runner" })), "mqtt lab-runner");
  t.is(sourceOf(packet({ source: "panel rack1", client_id: "x" })), "panel rack1");
  t.is(sourceOf(packet()), "mqtt");
  t.is(sourceOf(packet({ source: "a\nb" })), "mqtt", "a control character: not a name to log");
  t.is(sourceOf(packet({ source: "x".repeat(65) })), "mqtt", "longer than 64");
  t.is(sourceOf(packet({ source: ["first", "second"] })), "first");
});

test("an exception in a guarded handler or promise is counted and logged with its stack, never thrown", async (t) => {
  const { logger, lines } = recordingLogger();
  const sink = new ErrorSink(logger);
  const handler = sink.guard("test handler", (n: number) => {
    if (n === 1) throw new TypeError("sync failure");
    return Promise.reject(new Error("async failure"));
  });
  t.notThrows(() => handler(1));
  t.notThrows(() => handler(2));
  await new Promise((resolve) => setImmediate(resolve));
  t.is(sink.errors, 2);
  t.regex(lines[0] ?? "", /^error unexpected error in test handler: TypeError: sync failure\n\s+at /);
  t.regex(lines[1] ?? "", /async failure\n\s+at /);
});

class RecordingPublisher extends Publisher {
  readonly sent: string[] = [];
  override get connected(): boolean {
    return true;
  }
  override json(topic: string, value: unknown): Promise<void> {
    this.sent.push(`${topic} ${JSON.stringify(value)}`);
    return Promise.resolve();
  }
}

test("a burst of pending-list changes is published as one message with the list as it then stands", async (t) => {
  const store = new OutletStateStore(4);
  const publisher = new RecordingPublisher(new Topics(), "pdu1", silentLogger());
  const pending = new PendingPublisher(store, publisher, new ErrorSink(silentLogger()), 50);
  await pending.start();
  for (let i = 1; i <= 500; i++) store.setPending("command", [{ id: i, outlet: 1, action: "on", dueAt: 0 }]);
  await pending.stop(); // publishes what is still scheduled
  t.deepEqual(publisher.sent, ['pipdu/pdu1/pending [{"id":500,"outlet":1,"action":"on","dueAt":0}]']);
});

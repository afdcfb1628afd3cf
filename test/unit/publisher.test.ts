import test from "ava";
import type { MqttClient } from "mqtt";
import { Publisher } from "../../pdu-agent/publisher.ts";
import { Topics } from "../../protocol/topics.ts";
import { createLogger } from "../../log/logger.ts";

/** A client whose broker went away: it says so, and a QoS 1 publish would wait for its PUBACK forever. */
function brokerGone(): { client: MqttClient; published: string[] } {
  const published: string[] = [];
  const client = {
    connected: false,
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

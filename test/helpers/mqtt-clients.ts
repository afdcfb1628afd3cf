// MQTT.js clients for tests: connect and await, wait for a message, tidy up after each test.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ExecutionContext } from "ava";
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";

export interface Received {
  topic: string;
  payload: string;
  packet: IPublishPacket;
}

/** Connects and resolves on CONNACK; rejects on the first error (no reconnect loop). Ends the client after the test. */
export async function connectClient(
  t: ExecutionContext,
  url: string,
  options: IClientOptions = {},
): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  t.teardown(() => client.endAsync(true));
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
    client.once("close", () => reject(new Error("connection closed before CONNACK")));
  });
  return client;
}

/** Resolves with the connection error an MQTT.js client surfaces, or "closed" if the socket just closed. */
export function connectionRefusal(
  t: ExecutionContext,
  url: string,
  options: IClientOptions = {},
): Promise<Error | "closed"> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  t.teardown(() => client.endAsync(true));
  return new Promise((resolve, reject) => {
    client.once("connect", () => reject(new Error("connected, expected a refusal")));
    client.once("error", resolve);
    client.once("close", () => resolve("closed"));
  });
}

/** The next message on a topic matching `filter` (exact topic, no wildcards), as a string payload. */
export function nextMessage(client: MqttClient, topic: string): Promise<Received> {
  return new Promise((resolve) => {
    const onMessage = (received: string, payload: Buffer, packet: IPublishPacket): void => {
      if (received !== topic) return;
      client.off("message", onMessage);
      resolve({ topic: received, payload: payload.toString(), packet });
    };
    client.on("message", onMessage);
  });
}

/** Collects every message a client receives, for asserting that something did not arrive. */
export function collectMessages(client: MqttClient): Received[] {
  const received: Received[] = [];
  client.on("message", (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString(), packet }),
  );
  return received;
}

/** Resolves when the client's connection closes. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once("close", () => resolve()));
}

/** A fresh directory removed after the test. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "pipdu-test-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

// Connect to any MQTT broker the way every piPDU part should: MQTT 5 where the broker allows it, 3.1.1
// otherwise; TCP_NODELAY on the socket; a clean session (no commands queued while away); retry until the
// broker answers.
import fs from "node:fs";
import type { Socket } from "node:net";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Logger } from "../log/logger.ts";
import { realSleep } from "./sleep.ts";

export interface ConnectOptions {
  url: string;
  clientId: string;
  protocol: "auto" | "5" | "3.1.1";
  username?: string | null;
  password?: string | null;
  caFile?: string | null;
  will?: { topic: string; payload: string; retain: boolean; qos: 0 | 1 };
  logger: Logger;
  signal?: AbortSignal;
  /** Seconds between reconnect attempts. */
  reconnectSeconds?: number;
}

/** Resolves with a connected client. The client reconnects by itself afterwards. */
export async function connectMqtt(options: ConnectOptions): Promise<MqttClient> {
  const versions: (4 | 5)[] = options.protocol === "3.1.1" ? [4] : options.protocol === "5" ? [5] : [5, 4];
  let attempt = 0;
  for (;;) {
    for (const version of versions) {
      if (options.signal?.aborted) throw new Error("connect aborted");
      const outcome = await tryConnect(options, version);
      if (outcome.client) {
        options.logger.info(
          `connected to ${redact(options.url)} with MQTT ${version === 5 ? "5" : "3.1.1"}`,
          { component: "mqtt" },
        );
        return outcome.client;
      }
      if (!outcome.protocolRefused) {
        if (attempt++ % 10 === 0)
          options.logger.warn(`broker ${redact(options.url)} not reachable: ${outcome.reason}; retrying`, {
            component: "mqtt",
          });
        break; // unreachable: retry from the preferred version after a pause
      }
      options.logger.info(`broker refused MQTT ${version === 5 ? "5" : "3.1.1"} (${outcome.reason})`, {
        component: "mqtt",
      });
    }
    await realSleep((options.reconnectSeconds ?? 1) * 1000, options.signal);
  }
}

function clientOptions(options: ConnectOptions, version: 4 | 5): IClientOptions {
  const opts: IClientOptions = {
    clientId: options.clientId,
    protocolVersion: version,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    keepalive: 30,
    resubscribe: true,
    queueQoSZero: false,
  };
  if (version === 5) opts.properties = { sessionExpiryInterval: 0 };
  if (options.username != null) opts.username = options.username;
  if (options.password != null) opts.password = options.password;
  if (options.caFile != null) opts.ca = fs.readFileSync(options.caFile);
  if (options.will) opts.will = { ...options.will };
  return opts;
}

function tryConnect(
  options: ConnectOptions,
  version: 4 | 5,
): Promise<
  | { client: MqttClient; reason?: undefined; protocolRefused?: undefined }
  | { client?: undefined; reason: string; protocolRefused: boolean }
> {
  return new Promise((resolve) => {
    const client = mqtt.connect(options.url, clientOptions(options, version));
    let settled = false;
    const fail = (reason: string, protocolRefused: boolean): void => {
      if (settled) return;
      settled = true;
      client.removeAllListeners();
      client.on("error", () => undefined);
      client.end(true);
      resolve({ reason, protocolRefused });
    };
    client.once("connect", () => {
      if (settled) return;
      settled = true;
      client.removeListener("error", onError);
      client.removeListener("close", onClose);
      noDelay(client);
      client.on("connect", () => noDelay(client));
      client.options.reconnectPeriod = (options.reconnectSeconds ?? 1) * 1000;
      // Without this, one refused reconnect (CONNACK "not authorised" while a broker restarts with other
      // settings) stops the client from ever trying again.
      client.options.reconnectOnConnackError = true;
      resolve({ client });
    });
    const onError = (err: Error & { code?: string | number }): void => {
      // CONNACK codes: 3.1.1 rc 1 and MQTT 5 reason 0x84 both mean "unsupported protocol version".
      const refused = err.code === 1 || err.code === 132 || /protocol/i.test(err.message);
      const auth = err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135;
      fail(auth ? `not authorised: ${err.message}` : err.message, refused && !auth);
    };
    // A 3.1.1-only broker may simply drop an MQTT 5 CONNECT: treat a close before CONNACK as a refusal.
    const onClose = (): void => fail("connection closed before CONNACK", version === 5);
    client.on("error", onError);
    client.on("close", onClose);
  });
}

function noDelay(client: MqttClient): void {
  const stream = client.stream as Partial<Socket> | undefined;
  if (typeof stream?.setNoDelay === "function") stream.setNoDelay(true);
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

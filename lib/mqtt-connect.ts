// Connect to any MQTT broker the way every piPDU part should: MQTT 5 where the broker allows it, 3.1.1
// otherwise; TCP_NODELAY on the socket; a clean session (no commands queued while away); retry until the
// broker answers. Parts in the broker's own process connect over an in-memory stream instead of a socket.
import fs from "node:fs";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import mqtt, { MqttClient, type IClientOptions } from "mqtt";
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
  /**
   * Connect over streams this returns (one per connection) rather than to `url`: the embedded broker's
   * in-process connections. Without it, a stream registered for `url` with `useInProcessBroker` is used.
   */
  stream?: () => Duplex;
}

/** Broker URL → in-process stream factory, for the parts `pipdu start` runs beside its embedded broker. */
const inProcessBrokers = new Map<string, () => Duplex>();

/**
 * Parts connecting to `url` in this process use `stream` instead (the embedded broker's in-process
 * connections, which carry piPDU's own identity). Returns the function that undoes it.
 */
export function useInProcessBroker(url: string, stream: () => Duplex): () => void {
  inProcessBrokers.set(url, stream);
  return () => {
    if (inProcessBrokers.get(url) === stream) inProcessBrokers.delete(url);
  };
}

/** Resolves with a connected client. The client reconnects by itself afterwards. */
export async function connectMqtt(options: ConnectOptions): Promise<MqttClient> {
  const stream = options.stream ?? inProcessBrokers.get(options.url);
  // The embedded broker speaks MQTT 5: an in-process part does not probe.
  if (stream !== undefined && options.protocol === "auto") options = { ...options, protocol: "5", stream };
  else if (stream !== undefined) options = { ...options, stream };
  const versions: (4 | 5)[] = options.protocol === "3.1.1" ? [4] : options.protocol === "5" ? [5] : [5, 4];
  let attempt = 0;
  for (;;) {
    for (const version of versions) {
      if (options.signal?.aborted) throw new Error("connect aborted");
      const outcome = await tryConnect(options, version);
      if (outcome.client) {
        options.logger.info(
          `connected to ${options.stream === undefined ? redact(options.url) : "the embedded broker in this process"} with MQTT ${version === 5 ? "5" : "3.1.1"}`,
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

/**
 * MQTT.js logs every packet through `debug` (several calls per packet, arguments built each time) even when
 * no DEBUG namespace is enabled; without DEBUG in the environment our clients get a logger that does nothing.
 * `DEBUG=mqttjs*` still works as MQTT.js documents it.
 */
const noLog = (): void => undefined;

function clientOptions(options: ConnectOptions, version: 4 | 5): IClientOptions {
  const opts: IClientOptions = {
    ...(process.env["DEBUG"] ? {} : { log: noLog }),
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
    const stream = options.stream;
    const client =
      stream === undefined
        ? mqtt.connect(options.url, clientOptions(options, version))
        : new MqttClient(() => stream(), clientOptions(options, version));
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

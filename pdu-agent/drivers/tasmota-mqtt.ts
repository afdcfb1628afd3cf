// Tasmota over MQTT, for devices on the same broker as piPDU (driver `tasmota-mqtt`, key `topic`, default the
// hostname; `port_count`). Commands go to `cmnd/<topic>/POWER<n>`; the device's answers on `stat/<topic>/…`
// and its periodic `tele/<topic>/STATE` and `SENSOR` keep the states and currents. Every payload is parsed
// as untrusted: wrong shapes and sizes are ignored.
import type { MqttClient } from "mqtt";
import type { Settings } from "../../config/settings.ts";
import { connectMqtt } from "../../lib/mqtt-connect.ts";
import type { Logger } from "../../log/logger.ts";
import type { DeviceIo } from "./driver-controller.ts";
import { field, finite, onOff } from "./http-json.ts";
import type { DriverOptions } from "./options.ts";

const CONFIRM_MS = 5000;
const MAX_PAYLOAD = 8192;

export class TasmotaMqtt implements DeviceIo {
  private readonly topic: string;
  private readonly states: (boolean | null)[];
  private readonly amps: number[];
  private client: MqttClient | null = null;
  private connecting: Promise<MqttClient> | null = null;
  private online: boolean | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly abort = new AbortController();

  constructor(
    options: DriverOptions,
    private readonly settings: Settings,
    private readonly logger: Logger,
    private readonly outletCount: number,
  ) {
    this.topic = options.string("topic", options.hostname);
    if (!/^[^#+/\s]{1,64}$/.test(this.topic))
      options.fail('"topic" must be one topic level without wildcards');
    this.states = new Array<boolean | null>(outletCount).fill(null);
    this.amps = new Array<number>(outletCount).fill(0);
  }

  async switch(outlet: number, on: boolean): Promise<void> {
    const client = await this.connected();
    // Only an answer to this command confirms it: a state heard before may be a device that has since gone.
    this.states[outlet - 1] = null;
    const confirmed = this.until(() => this.states[outlet - 1] === on);
    // Not awaited: while the broker is away a QoS 1 publish waits for it to return; the confirmation's
    // timeout is what bounds the command.
    this.send(client, `cmnd/${this.topic}/POWER${outlet}`, on ? "ON" : "OFF");
    if (!(await confirmed))
      throw new Error(`Tasmota ${this.topic} did not confirm POWER${outlet} within ${CONFIRM_MS / 1000} s`);
  }

  async read(): Promise<(boolean | null)[]> {
    const client = await this.connected();
    if (this.states.every((s) => s === null)) {
      // Nothing heard yet: ask (the answer comes on stat/<topic>/RESULT).
      const heard = this.until(() => this.states.some((s) => s !== null));
      this.send(client, `cmnd/${this.topic}/STATE`, "");
      if (!(await heard))
        throw new Error(`Tasmota ${this.topic} did not answer on stat/${this.topic}/RESULT`);
    }
    if (this.online === false) throw new Error(`Tasmota ${this.topic} is offline (tele/${this.topic}/LWT)`);
    return [...this.states];
  }

  currents(): Promise<number[]> {
    return Promise.resolve([...this.amps]);
  }

  async close(): Promise<void> {
    this.abort.abort();
    // Forced: a graceful end waits for in-flight QoS 1 messages, forever while the broker is away.
    await this.client?.endAsync(true);
    this.client = null;
  }

  /** The MQTT topic of a message this driver reads, with its payload, applied to the states it keeps. */
  receive(topic: string, payload: Buffer): void {
    if (payload.length > MAX_PAYLOAD) return;
    const text = payload.toString("utf8");
    const [prefix, device, ...rest] = topic.split("/");
    if (device !== this.topic || rest.length !== 1) return;
    const name = rest[0] ?? "";
    if (prefix === "tele" && name === "LWT") this.online = text === "Online";
    const power = /^POWER([0-9]{0,2})$/.exec(name);
    if (prefix === "stat" && power) this.setState(power[1] === "" ? 1 : Number(power[1]), onOff(text));
    if ((prefix === "stat" && name === "RESULT") || (prefix === "tele" && name === "STATE")) {
      const json = parse(text);
      for (let n = 1; n <= this.outletCount; n++)
        this.setState(n, onOff(field(json, `POWER${n}`) ?? (n === 1 ? field(json, "POWER") : undefined)));
    }
    if (prefix === "tele" && name === "SENSOR") {
      const current = field(field(parse(text), "ENERGY"), "Current");
      const list = Array.isArray(current) ? current.map(finite) : [finite(current)];
      list.slice(0, this.outletCount).forEach((a, i) => {
        if (a !== null && a >= 0) this.amps[i] = a;
      });
    }
    for (const wake of this.waiters) wake();
  }

  private send(client: MqttClient, topic: string, payload: string): void {
    client.publish(topic, payload, { qos: 1 }, () => undefined);
  }

  private setState(n: number, state: boolean | null): void {
    if (state !== null && n >= 1 && n <= this.outletCount) this.states[n - 1] = state;
  }

  private until(done: () => boolean): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      const check = (): void => {
        if (done()) finish(true);
      };
      const timer = setTimeout(() => finish(false), CONFIRM_MS);
      this.waiters.add(check);
    });
  }

  /** One connection, however many reads and switches ask for it at once. */
  private connected(): Promise<MqttClient> {
    this.connecting ??= this.connect().catch((err: unknown) => {
      this.connecting = null;
      throw err;
    });
    return this.connecting;
  }

  private async connect(): Promise<MqttClient> {
    const { mqtt } = this.settings;
    const client = await connectMqtt({
      url: mqtt.url,
      clientId: `pipdu-${this.settings.pdu.id}-tasmota`,
      protocol: mqtt.protocol,
      username: mqtt.username,
      password: mqtt.password,
      caFile: mqtt.caFile,
      logger: this.logger,
      signal: this.abort.signal,
    });
    client.on("message", (topic, payload) => this.receive(topic, payload));
    // After a reconnect MQTT.js subscribes again by itself (connectMqtt sets `resubscribe`).
    await client.subscribeAsync([`stat/${this.topic}/+`, `tele/${this.topic}/+`], { qos: 1 });
    this.client = client;
    return client;
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

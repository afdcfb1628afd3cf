// Tasmota over MQTT on a real Mosquitto: an emulated device (per https://tasmota.github.io/docs/MQTT/ —
// cmnd/<topic>/POWER<n>, answers on stat/<topic>/RESULT and POWER<n>, tele/<topic>/SENSOR with ENERGY)
// switched through the driver; hostile payloads on the device's topics change nothing.
import test, { type ExecutionContext } from "ava";
import type { MqttClient } from "mqtt";
import type { DriverPduConfig } from "../config/pdudaemon-config.ts";
import { silentLogger } from "../log/logger.ts";
import { DriverController } from "../pdu-agent/drivers/driver-controller.ts";
import { DriverOptions } from "../pdu-agent/drivers/options.ts";
import { TasmotaMqtt } from "../pdu-agent/drivers/tasmota-mqtt.ts";
import { connectClient } from "./helpers/mqtt-clients.ts";
import { eventually, hasMosquitto, startBroker, testSettings } from "./helpers/system.ts";

/** A two-relay Tasmota with energy monitoring, topic `plug7`. */
async function fakeTasmota(client: MqttClient, relays: boolean[], commands: string[]): Promise<void> {
  const state = (): Record<string, string> =>
    Object.fromEntries(relays.map((on, i) => [`POWER${i + 1}`, on ? "ON" : "OFF"]));
  client.on("message", (topic, payload) => {
    const text = payload.toString();
    const power = /^cmnd\/plug7\/POWER([12])$/i.exec(topic);
    commands.push(`${topic} ${text}`);
    if (power) {
      const n = Number(power[1]);
      if (/^(on|1)$/i.test(text)) relays[n - 1] = true;
      if (/^(off|0)$/i.test(text)) relays[n - 1] = false;
      const value = relays[n - 1] ? "ON" : "OFF";
      void client.publishAsync("stat/plug7/RESULT", JSON.stringify({ [`POWER${n}`]: value }));
      void client.publishAsync(`stat/plug7/POWER${n}`, value);
    } else if (topic === "cmnd/plug7/STATE") {
      void client.publishAsync(
        "stat/plug7/RESULT",
        JSON.stringify({ Time: "2026-01-01T00:00:00", ...state() }),
      );
    }
  });
  await client.subscribeAsync("cmnd/plug7/#", { qos: 1 });
  await client.publishAsync("tele/plug7/LWT", "Online", { retain: true, qos: 1 });
}

(hasMosquitto ? test : test.skip)(
  "tasmota-mqtt switches POWER<n> on the shared broker, confirms from stat, reads currents from tele SENSOR",
  async (t) => {
    const broker = await startBroker(t, "mosquitto");
    const device = await connectClient(t, broker.url, { clientId: "DVES_plug7" });
    const relays = [false, true];
    const commands: string[] = [];
    await fakeTasmota(device, relays, commands);

    const settings = testSettings(t, { mqtt: { url: broker.url, protocol: "3.1.1" }, pdu: { id: "plug7" } });
    const config: DriverPduConfig = {
      hostname: "plug7",
      pduId: "plug7",
      driver: "tasmota-mqtt",
      retries: 1,
      retryDelay: 0,
      options: { driver: "tasmota-mqtt", port_count: 2 },
    };
    const io = new TasmotaMqtt(new DriverOptions(config), settings, silentLogger(), 2);
    const c = new DriverController(io, {
      driver: "tasmota-mqtt",
      address: "plug7",
      outletCount: 2,
      retries: 1,
      retryDelay: 0,
    });
    t.teardown(() => c.close());

    t.deepEqual(await c.readRelays(), [false, true], "state asked with cmnd/plug7/STATE");
    t.deepEqual(await c.setRelay(1, true), [true, true]);
    t.deepEqual(relays, [true, true]);
    t.true(commands.includes("cmnd/plug7/POWER1 ON"));

    // Hostile or malformed device messages are ignored; a later valid one still counts.
    for (const [topic, payload] of [
      ["stat/plug7/RESULT", "{not json"],
      ["stat/plug7/RESULT", JSON.stringify({ POWER1: 7, POWER2: { x: 1 }, POWER99: "OFF" })],
      ["stat/plug7/POWER1", "MAYBE"],
      ["stat/plug7/POWER1", "X".repeat(20_000)],
      ["tele/plug7/SENSOR", JSON.stringify({ ENERGY: { Current: [-5, "1e9"] } })],
      ["stat/other/POWER1", "OFF"],
    ] as const)
      await device.publishAsync(topic, payload, { qos: 1 });
    await device.publishAsync("tele/plug7/SENSOR", JSON.stringify({ ENERGY: { Current: [0.42, 0.1] } }), {
      qos: 1,
    });
    await eventually("the SENSOR reading", async () =>
      (await c.readCurrents())[0] === 0.42 ? true : undefined,
    );
    t.deepEqual(await c.readCurrents(), [0.42, 0.1]);
    t.deepEqual(await c.readRelays(), [true, true]);
  },
);

function goneDevice(t: ExecutionContext, url: string): DriverController {
  const settings = testSettings(t, { mqtt: { url, protocol: "3.1.1" }, pdu: { id: "gone" } });
  const config: DriverPduConfig = {
    hostname: "gone",
    pduId: "gone",
    driver: "tasmota-mqtt",
    retries: 1,
    retryDelay: 0,
    options: { driver: "tasmota-mqtt" },
  };
  const io = new TasmotaMqtt(new DriverOptions(config), settings, silentLogger(), 1);
  const c = new DriverController(io, {
    driver: "tasmota-mqtt",
    address: "gone",
    outletCount: 1,
    retries: 1,
    retryDelay: 0,
  });
  t.teardown(() => c.close());
  return c;
}

(hasMosquitto ? test : test.skip)(
  "tasmota-mqtt does not take a state heard before the command as the device's confirmation",
  async (t) => {
    t.timeout(20_000);
    const broker = await startBroker(t, "mosquitto");
    const other = await connectClient(t, broker.url, { clientId: "someone" });
    const c = goneDevice(t, broker.url);
    // The last word heard said ON; then the device went quiet.
    await other.publishAsync("stat/gone/POWER1", "ON", { qos: 1, retain: true });
    t.deepEqual(await c.readRelays(), [true]);
    await t.throwsAsync(c.setRelay(1, true), { message: /Tasmota gone did not confirm POWER1 within 5 s/ });
  },
);

(hasMosquitto ? test : test.skip)(
  "tasmota-mqtt fails a switch when the broker is gone instead of waiting for it to come back",
  async (t) => {
    t.timeout(20_000);
    const broker = await startBroker(t, "mosquitto");
    const other = await connectClient(t, broker.url, { clientId: "someone" });
    const c = goneDevice(t, broker.url);
    await other.publishAsync("stat/gone/POWER1", "OFF", { qos: 1, retain: true });
    t.deepEqual(await c.readRelays(), [false]);
    await broker.stop();
    await t.throwsAsync(c.setRelay(1, true), { message: /Tasmota gone did not confirm POWER1 within 5 s/ });
  },
);

(hasMosquitto ? test : test.skip)("tasmota-mqtt fails a switch the device never confirms", async (t) => {
  t.timeout(20_000);
  const broker = await startBroker(t, "mosquitto");
  const c = goneDevice(t, broker.url);
  await t.throwsAsync(c.setRelay(1, true), { message: /Tasmota gone did not confirm POWER1 within 5 s/ });
});

(hasMosquitto ? test : test.skip)(
  "tasmota-mqtt hears the device again after the broker restarts (its subscriptions come back)",
  async (t) => {
    t.timeout(30_000);
    const broker = await startBroker(t, "mosquitto");
    const c = goneDevice(t, broker.url);
    const before = await connectClient(t, broker.url, { clientId: "someone" });
    await before.publishAsync("stat/gone/POWER1", "OFF", { qos: 1, retain: true });
    t.deepEqual(await c.readRelays(), [false]);
    await broker.restart();
    const after = await connectClient(t, broker.url, { clientId: "someone-else" });
    await eventually("stat/gone/POWER1 heard after the restart", async () => {
      await after.publishAsync("stat/gone/POWER1", "ON", { qos: 1 });
      return (await c.readRelays())[0] === true ? true : undefined;
    });
    t.deepEqual(await c.readRelays(), [true]);
  },
);

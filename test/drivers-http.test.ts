// The HTTP drivers against emulators written from each device's public API documentation: the requests
// upstream PDUDaemon makes for switching, plus the reads piPDU adds (state and current).
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import test from "ava";
import { DriverController, type DeviceIo } from "../pdu-agent/drivers/driver-controller.ts";
import { EsphomeHttp } from "../pdu-agent/drivers/esphome-http.ts";
import { ShellyGen2 } from "../pdu-agent/drivers/shelly-gen2.ts";
import { TasmotaHttp } from "../pdu-agent/drivers/tasmota-http.ts";
import { esphome, shellyGen2, tasmota } from "./helpers/device-emulators.ts";
import { driverOptions } from "./helpers/driver-options.ts";

const MAINS = { voltage: 230, powerFactor: 1 };

const controller = (io: DeviceIo, outletCount: number): DriverController =>
  new DriverController(io, { driver: "http", address: "test", outletCount, retries: 1, retryDelay: 0 });

test("tasmota: Power<n> on with user and password as upstream, state from Status 11, current from Status 8", async (t) => {
  const device = await tasmota(t, 2, [0.5, 1.25], "secret");
  const c = controller(
    new TasmotaHttp(
      driverOptions("ignored", {
        driver: "tasmota",
        ip: device.host,
        port_count: 2,
        username: "admin",
        password: "secret",
      }),
      MAINS,
    ),
    2,
  );
  t.deepEqual(await c.setRelay(2, true), [false, true]);
  t.deepEqual(await c.readCurrents(), [0, 1.25]);
  t.is(device.requests[0], "GET /cm?cmnd=Power2+on&user=admin&password=secret");
  t.deepEqual(device.relays, [false, true]);
});

test("tasmota: a one-relay device answering POWER (not POWER1) is understood", async (t) => {
  const device = await tasmota(t, 1, [0.2]);
  const c = controller(
    new TasmotaHttp(driverOptions(device.host, { driver: "sonoff_s20_tasmota" }), MAINS),
    1,
  );
  t.deepEqual(await c.setRelay(1, true), [true]);
  t.deepEqual(await c.readCurrents(), [0.2]);
});

test("tasmota: a device refusing the credentials fails the switch with the HTTP status, password not shown", async (t) => {
  const device = await tasmota(t, 1, [0], "secret");
  const c = controller(
    new TasmotaHttp(
      driverOptions(device.host, { driver: "tasmota", username: "admin", password: "wrong" }),
      MAINS,
    ),
    1,
  );
  const err = await t.throwsAsync(c.setRelay(1, true));
  t.regex(err.message, /HTTP 401/);
  t.notRegex(err.message, /wrong/);
});

test("shelly_gen2: outlet n is switch id n-1 via Switch.Set; Switch.GetStatus gives state and current", async (t) => {
  const device = await shellyGen2(t, 2, [0, 115]);
  const c = controller(
    new ShellyGen2(driverOptions(device.host, { driver: "shelly_gen2", outlets: 2 }), MAINS, 2),
    2,
  );
  t.deepEqual(await c.setRelay(2, true), [false, true]);
  t.deepEqual(await c.readCurrents(), [0, 0.5]);
  t.deepEqual(device.relays, [false, true]);
  t.is(device.requests[0], "POST /rpc");
});

test("esphome-http: POST turn_on / turn_off on the switch ids, each read back with GET", async (t) => {
  const device = await esphome(t, ["relay_1", "relay 2"]);
  const c = controller(
    new EsphomeHttp(
      driverOptions(device.host, { driver: "esphome-http", switch_ids: ["relay_1", "relay 2"] }),
    ),
    2,
  );
  t.deepEqual(await c.setRelay(2, true), [false, true]);
  t.deepEqual(await c.setRelay(2, false), [false, false]);
  t.deepEqual(
    device.requests.filter((r) => r.startsWith("POST")),
    ["POST /switch/relay 2/turn_on", "POST /switch/relay 2/turn_off"],
  );
});

test("answers that are not what the device documents fail the switch with a reason and change nothing", async (t) => {
  const answers: [number, string][] = [
    [200, "<html>captive portal</html>"],
    [200, JSON.stringify({ POWER1: { nested: true } })],
    [200, JSON.stringify({ POWER: "on " })],
    [200, '{"__proto__": {"POWER1": "ON"}}'],
    [200, "x".repeat(200_000)],
    [500, "{}"],
  ];
  const server = http.createServer((_req, res) => {
    const [status, body] = answers.shift() ?? [200, "{}"];
    res.writeHead(status, { "content-type": "application/json" });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const c = controller(new TasmotaHttp(driverOptions(host, { driver: "tasmota" }), MAINS), 1);
  const reasons: string[] = [];
  for (let i = 0; i < 6; i++) reasons.push((await t.throwsAsync(c.setRelay(1, true))).message);
  t.deepEqual(reasons, [
    `http test: http://${host}/cm: answer is not JSON`,
    "http test: Tasmota did not confirm POWER1 ON",
    "http test: Tasmota did not confirm POWER1 ON",
    "http test: Tasmota did not confirm POWER1 ON",
    `http test: http://${host}/cm: answer longer than 65536 bytes`,
    `http test: http://${host}/cm: HTTP 500`,
  ]);
  t.deepEqual(await c.readRelays(), [false]);
});

test("a device that sends its answer a byte at a time is given up at the request timeout", async (t) => {
  const sockets = new Set<Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write("{");
    const drip = setInterval(() => res.write(" "), 200);
    res.on("close", () => clearInterval(drip));
  });
  server.on("connection", (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const c = controller(new TasmotaHttp(driverOptions(host, { driver: "tasmota" }), MAINS), 1);
  const err = await t.throwsAsync(c.setRelay(1, true));
  t.regex(err.message, new RegExp(`^http test: http://${host}/cm: .*(timeout|aborted)`, "i"));
});

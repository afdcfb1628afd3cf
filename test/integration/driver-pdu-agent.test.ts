// A driver-backed PDU as a pdu-agent on a broker: a command is retried as PDUDaemon's `retries` says and ends
// in exactly one result; one that still fails reaches the client as an error with the device's reason, and
// the outlet stays as it was.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import test from "ava";
import { silentLogger } from "../../log/logger.ts";
import { driverPdusFromSettings, runDriverPdus } from "../../pdu-agent/drivers/run-driver-pdus.ts";
import { tasmota } from "../helpers/device-emulators.ts";
import { connectClient, nextMessage } from "../helpers/mqtt-clients.ts";
import { eventually, startBroker, tempDir, testSettings } from "../helpers/system.ts";

test("a localcmdline outlet is retried until its command succeeds (result ok); one that keeps failing ends in an error with the reason, outlet unchanged", async (t) => {
  const broker = await startBroker(t, "embedded");
  const dir = tempDir(t);
  const runs = path.join(dir, "runs");
  // Fails twice, then succeeds: counts its runs in a file.
  const flaky = `echo %s >> ${runs}; [ "$(wc -l < ${runs})" -ge 3 ]`;
  const settings = testSettings(t, {
    mqtt: { url: broker.url, protocol: "3.1.1" },
    pdudaemon: {
      pdus: {
        "Rack-A.lab": { driver: "localcmdline", cmd_on: flaky, cmd_off: "exit 4", retries: 3, retrydelay: 0 },
      },
    },
  });
  const logger = silentLogger();
  // Driver PDUs start in the background: commands are sent once the agent says it is online.
  const client = await connectClient(t, broker.url);
  await client.subscribeAsync("pipdu/rack-a-lab/#", { qos: 1 });
  const online = nextMessage(client, "pipdu/rack-a-lab/availability");
  const stop = await runDriverPdus(await driverPdusFromSettings(settings, logger), logger, () => []);
  t.teardown(stop);
  t.is((await online).payload, "online");
  let result = nextMessage(client, "pipdu/rack-a-lab/result");
  await client.publishAsync("pipdu/rack-a-lab/outlet/2/set", "ON", { qos: 1 });
  t.is((await result).payload, '{"outlet":2,"command":"on","status":"ok","state":"ON","source":"mqtt"}');
  t.deepEqual(fs.readFileSync(runs, "utf8"), "2\n2\n2\n");

  result = nextMessage(client, "pipdu/rack-a-lab/result");
  await client.publishAsync("pipdu/rack-a-lab/outlet/2/set", "OFF", { qos: 1 });
  const failed = JSON.parse((await result).payload) as {
    status: string;
    state: string;
    error: { code: string; message: string };
  };
  t.is(failed.status, "error");
  t.is(failed.error.code, "hardware_error");
  t.regex(failed.error.message, /^localcmdline Rack-A\.lab: cmd_off exited with 4 \(3 attempts\)/);
  t.is(failed.state, "ON");
});

test("a device that does not answer at start-up is reported with when it is tried again; the other PDUs come online", async (t) => {
  const broker = await startBroker(t, "embedded");
  const settings = testSettings(t, {
    mqtt: { url: broker.url, protocol: "3.1.1" },
    pdudaemon: {
      pdus: {
        "127.0.0.1": { driver: "modbustcp", port: 1, retries: 1 },
        strip: { driver: "localcmdline", cmd_on: "true", cmd_off: "true" },
      },
    },
  });
  const warnings: string[] = [];
  const quiet = silentLogger();
  const logger = Object.assign(Object.create(quiet) as typeof quiet, {
    warn: (message: string) => warnings.push(message),
    child: () => logger,
  });
  const client = await connectClient(t, broker.url);
  await client.subscribeAsync("pipdu/+/availability", { qos: 1 });
  const online = nextMessage(client, "pipdu/strip/availability");
  const stop = await runDriverPdus(await driverPdusFromSettings(settings, logger), logger, () => []);
  t.teardown(stop);
  t.is((await online).payload, "online");
  await eventually("the warning", () => (warnings.length > 0 ? true : undefined));
  t.is(warnings.length, 1);
  t.regex(
    warnings[0] ?? "",
    /^PDU "127\.0\.0\.1" \(modbustcp\) did not start: modbustcp 127\.0\.0\.1: Modbus 127\.0\.0\.1:1 unit 1: .*ECONNREFUSED.*; trying again in 30 s$/,
  );
});

test("a device that comes up after start-up is started on a later attempt and goes online", async (t) => {
  const broker = await startBroker(t, "embedded");
  const device = await tasmota(t, 1, [0]);
  let refused = 0; // its first two state reads fail, as a device still booting
  const server = http.createServer((req, res) => {
    if (refused < 2) {
      refused++;
      res.writeHead(503).end();
      return;
    }
    void fetch(`http://${device.host}${req.url ?? "/"}`).then(async (answer) => {
      res.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const settings = testSettings(t, {
    mqtt: { url: broker.url, protocol: "3.1.1" },
    pdudaemon: { pdus: { plug: { driver: "tasmota", ip: host } } },
  });
  const logger = silentLogger();
  const client = await connectClient(t, broker.url);
  await client.subscribeAsync("pipdu/plug/availability", { qos: 1 });
  const online = nextMessage(client, "pipdu/plug/availability");
  const stop = await runDriverPdus(await driverPdusFromSettings(settings, logger), logger, () => [], 50);
  t.teardown(stop);
  t.is((await online).payload, "online");
  t.is(refused, 2);
});

test("hostile outlet levels on MQTT reach a localcmdline command only as a checked outlet number", async (t) => {
  const broker = await startBroker(t, "embedded");
  const dir = tempDir(t);
  const runs = path.join(dir, "runs");
  const settings = testSettings(t, {
    mqtt: { url: broker.url, protocol: "3.1.1" },
    pdudaemon: {
      pdus: { strip: { driver: "localcmdline", cmd_on: `echo %s >> ${runs}`, outlets: 4, retries: 1 } },
    },
  });
  const logger = silentLogger();
  const client = await connectClient(t, broker.url);
  await client.subscribeAsync(["pipdu/strip/result", "pipdu/strip/availability"], { qos: 1 });
  const online = nextMessage(client, "pipdu/strip/availability");
  const stop = await runDriverPdus(await driverPdusFromSettings(settings, logger), logger, () => []);
  t.teardown(stop);
  t.is((await online).payload, "online"); // started in the background: commands go once it is online
  const outcomes: string[] = [];
  for (const level of ["1;touch x", "$(id)", "01", "1e3", "-1", "99999999999999999999", "0x2", " 3", "4"]) {
    const result = nextMessage(client, "pipdu/strip/result");
    await client.publishAsync(`pipdu/strip/outlet/${level}/set`, "ON", { qos: 1 });
    const payload = JSON.parse((await result).payload) as { status: string; outlet: number | null };
    outcomes.push(`${level} ${payload.status} ${String(payload.outlet)}`);
  }
  t.deepEqual(outcomes, [
    "1;touch x error null",
    "$(id) error null",
    "01 ok 1",
    "1e3 error null",
    "-1 error null",
    "99999999999999999999 error null",
    "0x2 error null",
    " 3 error null",
    "4 ok 4",
  ]);
  t.is(fs.readFileSync(runs, "utf8"), "1\n4\n");
});

test("driver PDUs start without waiting for a device that is slow to answer; the others go online meanwhile", async (t) => {
  const broker = await startBroker(t, "embedded");
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((_req, res) => held.add(res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.end("{}");
        server.close(() => resolve());
      }),
  );
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const settings = testSettings(t, {
    mqtt: { url: broker.url, protocol: "3.1.1" },
    pdudaemon: {
      pdus: {
        slow: { driver: "tasmota", ip: host, retries: 1 },
        strip: { driver: "localcmdline", cmd_on: "true", cmd_off: "true" },
      },
    },
  });
  const logger = silentLogger();
  const client = await connectClient(t, broker.url);
  await client.subscribeAsync("pipdu/strip/availability", { qos: 1 });
  const online = nextMessage(client, "pipdu/strip/availability");
  let started = false;
  const running = runDriverPdus(await driverPdusFromSettings(settings, logger), logger, () => []).then(
    (stop) => {
      started = true;
      t.teardown(stop);
    },
  );
  // The slow device has just been asked and not answered: what starts after the driver PDUs is not held.
  await eventually("the slow device's first request", () => (held.size > 0 ? true : undefined));
  t.true(started);
  t.is((await online).payload, "online");
  await running;
});

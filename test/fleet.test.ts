// A simulated fleet: many complete PDUs in one process on one broker, each with its own id, state and client.
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import { parseSimArgs } from "../cli/sim-fleet.ts";
import { silentLogger } from "../log/logger.ts";
import { FleetError, SimFleet, fleetIds } from "../pdu-agent/fleet.ts";
import { connectClient, nextMessage } from "./helpers/mqtt-clients.ts";
import {
  BROKERS,
  exited,
  hasMosquitto,
  mosquittoSub,
  spawnPipdu,
  startBroker,
  testSettings,
} from "./helpers/system.ts";

test("fleet ids are the prefix and a zero-padded number, wide enough to sort", (t) => {
  t.deepEqual(fleetIds(3), ["pdu01", "pdu02", "pdu03"]);
  t.is(fleetIds(64)[63], "pdu64");
  t.deepEqual(fleetIds(100).slice(98), ["pdu099", "pdu100"]);
  t.deepEqual(fleetIds(2, "rack-a"), ["rack-a01", "rack-a02"]);
});

test("a fleet size or prefix out of range is refused with a code and what is allowed", (t) => {
  for (const size of [0, -1, 1.5, 1000, NaN]) {
    const err = t.throws(() => fleetIds(size), { instanceOf: FleetError });
    t.is(err.code, "fleet-size");
    t.regex(err.message, /from 1 to 999/);
  }
  t.is(t.throws(() => fleetIds(2, "Rack A"), { instanceOf: FleetError }).code, "fleet-prefix");
});

test("pipdu sim reads --pdus and --prefix, in either form, and ignores configuration arguments", (t) => {
  t.deepEqual(parseSimArgs([]), { size: 4, prefix: "pdu" });
  t.deepEqual(parseSimArgs(["--pdus", "64"]), { size: 64, prefix: "pdu" });
  t.deepEqual(parseSimArgs(["--mqtt.url", "mqtt://x:1883", "--pdus=8", "--prefix=lab"]), {
    size: 8,
    prefix: "lab",
  });
  t.is(t.throws(() => parseSimArgs(["--pdus", "many"]), { instanceOf: FleetError }).code, "fleet-size");
  t.regex(t.throws(() => parseSimArgs(["--pdus"])).message, /--pdus needs a value/);
});

for (const kind of BROKERS) {
  test(`[${kind}] three simulated PDUs share a broker; a command to pdu02 switches pdu02 only`, async (t) => {
    const broker = await startBroker(t, kind);
    const settings = testSettings(t, { mqtt: { url: broker.url } });
    const fleet = new SimFleet({ settings, size: 3, logger: silentLogger() });
    t.teardown(() => fleet.stop());
    await fleet.start();

    const client = await connectClient(t, broker.url);
    const online = new Map<string, string>();
    const allThree = new Promise<void>((resolve) => {
      client.on("message", (topic, payload) => {
        if (topic.endsWith("/availability")) online.set(topic, payload.toString());
        if (online.size === 3) resolve();
      });
    });
    await client.subscribeAsync(["pipdu/+/availability", "pipdu/+/outlet/5/state"], { qos: 1 });
    await allThree;
    t.deepEqual(Object.fromEntries(online), {
      "pipdu/pdu01/availability": "online",
      "pipdu/pdu02/availability": "online",
      "pipdu/pdu03/availability": "online",
    });

    const states: string[] = [];
    client.on("message", (topic, payload) => {
      if (topic.endsWith("/outlet/5/state")) states.push(`${topic} ${payload.toString()}`);
    });
    await client.subscribeAsync("pipdu/pdu02/result", { qos: 1 });
    const result = nextMessage(client, "pipdu/pdu02/result");
    await client.publishAsync(
      "pipdu/pdu02/outlet/5/set",
      JSON.stringify({ state: "ON", transaction: "fleet-1" }),
      { qos: 1 },
    );
    t.deepEqual(JSON.parse((await result).payload), {
      outlet: 5,
      command: "on",
      transaction: "fleet-1",
      status: "ok",
      state: "ON",
      // The embedded broker stamps the publisher's client id on commands; Mosquitto does not.
      source: kind === "embedded" ? `mqtt ${client.options.clientId ?? ""}` : "mqtt",
    });
    // Retained states of all three arrived on subscribe; after the command only pdu02's changes. Sentinel:
    // a command to each other PDU, answered only after anything it might wrongly have done before.
    await client.subscribeAsync(["pipdu/pdu01/result", "pipdu/pdu03/result"], { qos: 1 });
    const sentinels = ["pdu01", "pdu03"].map((id) => nextMessage(client, `pipdu/${id}/result`));
    for (const id of ["pdu01", "pdu03"])
      await client.publishAsync(`pipdu/${id}/outlet/6/set`, "OFF", { qos: 1 });
    await Promise.all(sentinels);
    t.deepEqual(
      states.filter((l) => l.endsWith("ON")),
      ["pipdu/pdu02/outlet/5/state ON"],
    );
    // Each PDU keeps its relays in its own state directory, as separate Pis would.
    t.deepEqual(fs.readdirSync(path.join(settings.stateDir, "fleet")).sort(), ["pdu02"]);
  });
}

(hasMosquitto ? test : test.skip)(
  "`pipdu sim --pdus 3` brings three PDUs online and takes them offline on SIGTERM",
  async (t) => {
    const broker = await startBroker(t, "embedded");
    const settings = testSettings(t);
    const up = mosquittoSub(broker.port, "pipdu/+/availability", 3, 30);
    await up.ready;
    const child = spawnPipdu(t, ["sim", "--pdus", "3"], {
      PIPDU_MQTT_URL: broker.url,
      PIPDU_STATE_DIR: settings.stateDir,
    });
    t.deepEqual((await up.lines).sort(), [
      "pipdu/pdu01/availability online",
      "pipdu/pdu02/availability online",
      "pipdu/pdu03/availability online",
    ]);
    const down = mosquittoSub(broker.port, "pipdu/+/availability", 6, 30);
    await down.ready;
    child.kill("SIGTERM");
    t.is(await exited(child), 0, child.output());
    t.deepEqual((await down.lines).filter((l) => l.endsWith("offline")).sort(), [
      "pipdu/pdu01/availability offline",
      "pipdu/pdu02/availability offline",
      "pipdu/pdu03/availability offline",
    ]);
    t.regex(child.output(), /simulated fleet: 3 PDUs \(pdu01 … pdu03\), 48 outlets/);
  },
);

test("`pipdu sim --pdus 0` stops at start-up with the allowed range", async (t) => {
  const child = spawnPipdu(t, ["sim", "--pdus", "0"], { PIPDU_MQTT_URL: "mqtt://127.0.0.1:1" });
  t.is(await exited(child), 1);
  t.regex(child.output(), /fleet size must be a whole number from 1 to 999, got 0/);
});

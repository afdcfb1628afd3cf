// Only the agent speaks for its PDU, as the gateway sees it: a forged result cannot answer a command, a
// retained forged "offline" does not lock the PDU, a forged info's limits do not stretch a reboot, and every
// command names who sent it.
import test, { type ExecutionContext } from "ava";
import type { IPublishPacket } from "mqtt";
import { connectClient } from "../helpers/mqtt-clients.ts";
import {
  BROKERS,
  hasMosquitto,
  startAgent,
  startBroker,
  testSettings,
  type BrokerKind,
} from "../helpers/system.ts";
import { startGateway, waitForPdu } from "../gateway-harness.ts";
import type { Settings } from "../../config/settings.ts";

const mosquittoTest = hasMosquitto ? test : test.skip;

async function system(t: ExecutionContext, kind: BrokerKind, patch: Partial<Settings> = {}) {
  const broker = await startBroker(t, kind);
  const settings = {
    ...testSettings(t, { mqtt: { url: broker.url }, gateway: { requestTimeout: 2 } }),
    ...patch,
  };
  return { broker, settings };
}

function post(base: string, path: string, body: object): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

const GHOST_INFO = {
  pdu: "ghost",
  name: "ghost",
  outlets: [{ number: 1, name: "Outlet 1", protected: false }],
  firmware: { version: "1", hardware: "sim" },
  agent: { version: "1" },
  mains: { voltage: 230, voltageSource: "configured", powerFactor: 1, frequency: 50 },
  limits: { maxDelay: 3600, defaultCycleDelay: 5, maxPayloadBytes: 1024, maxCurrent: 16 },
};

// MQTT 5 (Mosquitto): answers come on the gateway's own response topic with its correlation data. With
// MQTT 3.1.1 a client that can read the command topic can read the transaction too; there the broker's
// policy (only the agent may publish `<base>/<pdu>/result`) is what stops a forger.
mosquittoTest(
  "[mosquitto] a forged ok on <pdu>/result, carrying the command's transaction, does not answer the gateway",
  async (t) => {
    const { broker, settings } = await system(t, "mosquitto");
    const forger = await connectClient(t, broker.url, { protocolVersion: 5 });
    // A PDU that looks alive but whose agent never answers; the forger answers for it at once.
    await forger.publishAsync("pipdu/ghost/availability", "online", { qos: 1, retain: true });
    await forger.publishAsync("pipdu/ghost/info", JSON.stringify(GHOST_INFO), { qos: 1, retain: true });
    await forger.subscribeAsync("pipdu/ghost/outlet/+/set", { qos: 1 });
    let forged = 0;
    forger.on("message", (_topic, payload) => {
      const { transaction } = JSON.parse(payload.toString()) as { transaction: string };
      forged++;
      void forger.publishAsync(
        "pipdu/ghost/result",
        JSON.stringify({ outlet: 1, command: "off", transaction, status: "ok", state: "OFF" }),
        { qos: 1 },
      );
    });
    const gw = await startGateway(t, settings);
    for (let i = 0; i < 100 && (await (await fetch(`${gw.base}/api/pdus`)).text()) === "[]\n"; i++)
      await new Promise((r) => setTimeout(r, 25));
    const response = await post(gw.base, "/api/pdus/ghost/outlets/1", { action: "off" });
    t.is(forged, 1, "the forger saw the command and answered it");
    t.is(response.status, 504, "no answer from the agent: a timeout, not the forged ok");
  },
);

for (const kind of BROKERS) {
  test(`[${kind}] a retained forged "offline" does not make the gateway refuse a PDU whose agent answers`, async (t) => {
    const { broker, settings } = await system(t, kind);
    await startAgent(t, settings);
    const gw = await startGateway(t, settings);
    await waitForPdu(gw.base, "pdu1", 16);
    const forger = await connectClient(t, broker.url, { protocolVersion: 4 });
    await forger.publishAsync("pipdu/pdu1/availability", "offline", { qos: 1, retain: true });
    for (let i = 0; i < 200; i++) {
      const pdus = (await (await fetch(`${gw.base}/api/pdus`)).json()) as { online: boolean }[];
      if (pdus[0]?.online === false) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const response = await post(gw.base, "/api/pdus/pdu1/outlets/2", { action: "on" });
    t.like(await response.json(), { status: "ok", state: "ON" });
    t.is(response.status, 200);
    const pduclient = await fetch(
      `http://127.0.0.1:${gw.pdudaemonPort}/power/control/off?hostname=pdu1&port=2`,
    );
    t.is(pduclient.status, 200);
  });

  test(`[${kind}] a forged info's defaultCycleDelay does not stretch a PDUDaemon reboot: the agent's default applies`, async (t) => {
    const { broker, settings } = await system(t, kind);
    settings.commands = { ...settings.commands, defaultCycleDelay: 0.2 };
    const agent = await startAgent(t, settings);
    const gw = await startGateway(t, settings);
    await waitForPdu(gw.base, "pdu1", 16);
    const forger = await connectClient(t, broker.url, { protocolVersion: 4 });
    const real = (
      await new Promise<Buffer>((resolve) => {
        void forger.subscribeAsync("pipdu/pdu1/info");
        forger.once("message", (_topic, payload) => resolve(payload));
      })
    ).toString();
    const info = JSON.parse(real) as typeof GHOST_INFO;
    info.limits.defaultCycleDelay = 600;
    info.outlets[0] = { number: 1, name: "Forged", protected: false };
    await forger.publishAsync("pipdu/pdu1/info", JSON.stringify(info), { qos: 1, retain: true });
    for (let i = 0; i < 200; i++) {
      const outlet = (await (await fetch(`${gw.base}/api/pdus/pdu1/outlets/1`)).json()) as { name: string };
      if (outlet.name === "Forged") break; // the gateway holds the forged info
      await new Promise((r) => setTimeout(r, 25));
    }
    const results: unknown[] = [];
    const watcher = await connectClient(t, broker.url, { protocolVersion: 4 });
    await watcher.subscribeAsync("pipdu/pdu1/result", { qos: 1 });
    watcher.on("message", (_topic, payload) => results.push(JSON.parse(payload.toString())));
    const response = await fetch(
      `http://127.0.0.1:${gw.pdudaemonPort}/power/control/reboot?hostname=pdu1&port=3`,
    );
    t.is(
      response.status,
      200,
      "answered once the agent's own 0.2 s cycle ended, within the 2 s request timeout",
    );
    t.like(results.at(-1), { outlet: 3, command: "cycle", status: "ok", state: "ON" });
    t.true((await agent.sim.controller.readRelays())[2]);
  });
}

mosquittoTest(
  "[mosquitto] every command the gateway sends names its source: rest and pdudaemon with the client address",
  async (t) => {
    const { broker, settings } = await system(t, "mosquitto");
    await startAgent(t, settings);
    const gw = await startGateway(t, settings);
    await waitForPdu(gw.base, "pdu1", 16);
    const watcher = await connectClient(t, broker.url, { protocolVersion: 5 });
    await watcher.subscribeAsync("pipdu/pdu1/outlet/+/set", { qos: 1 });
    const sources: unknown[] = [];
    watcher.on("message", (_topic, _payload, packet: IPublishPacket) =>
      sources.push(packet.properties?.userProperties?.["source"]),
    );
    t.is((await post(gw.base, "/api/pdus/pdu1/outlets/2", { action: "on" })).status, 200);
    t.is(
      (await fetch(`http://127.0.0.1:${gw.pdudaemonPort}/power/control/off?hostname=pdu1&port=2`)).status,
      200,
    );
    for (let i = 0; i < 100 && sources.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    t.deepEqual(sources, ["rest 127.0.0.1", "pdudaemon-http 127.0.0.1"]);
  },
);

// A PDU's `info` is what the gateway and the panel build their view from. Published by anyone, malformed,
// live or retained, it must be dropped and counted — never kill `pipdu start` (broker, agent, panel and
// gateway in one process) or a separate gateway, and never take up room in the directory.
import test, { type ExecutionContext } from "ava";
import { connectClient } from "./helpers/mqtt-clients.ts";
import { eventually, exited, freePort, spawnPipdu, tempDir, waitForPort } from "./helpers/system.ts";
import { waitForPdu } from "./gateway-harness.ts";

const HOSTILE_INFOS = [
  '{"outlets":[null]}',
  '{"outlets":[]}',
  '{"pdu":"evil","outlets":[{"number":1}]}',
  '{"pdu":"evil","name":null,"outlets":[{"number":"1","name":{},"protected":"yes"}]}',
  '{"__proto__":{"outlets":[1]},"outlets":{"length":3}}',
  "null",
  "[]",
  "\u0000\u00ff",
];

async function startAll(t: ExecutionContext, stateDir: string, ports: number[]) {
  const [brokerPort, httpPort, pdPort, panelPort] = ports as [number, number, number, number];
  const child = spawnPipdu(t, ["start"], {
    PIPDU_STATE_DIR: stateDir,
    PIPDU_HARDWARE: "sim",
    PIPDU_BROKER_PORT: String(brokerPort),
    PIPDU_BROKER_WS_PORT: "0",
    PIPDU_HTTP_PORT: String(httpPort),
    PIPDU_PDUDAEMON_PORT: String(pdPort),
    PIPDU_GATEWAY_HOST: "127.0.0.1",
    PIPDU_PANEL_PORT: String(panelPort),
  });
  const base = `http://127.0.0.1:${httpPort}`;
  await eventually("the gateway's page", () => (child.output().includes("page:") ? true : undefined), 30_000);
  await waitForPdu(base, "pdu1", 16);
  return { child, base, brokerUrl: `mqtt://127.0.0.1:${brokerPort}` };
}

async function switchOutlet(base: string, n: number, action: "on" | "off"): Promise<unknown> {
  const response = await fetch(`${base}/api/pdus/pdu1/outlets/${n}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ action }),
  });
  return response.json();
}

test("malformed info on any PDU's topic, live and retained, kills no part of pipdu start, also after a restart", async (t) => {
  t.timeout(120_000);
  const stateDir = tempDir(t);
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const first = await startAll(t, stateDir, ports);
  const attacker = await connectClient(t, first.brokerUrl, { protocolVersion: 4 });
  for (const [i, payload] of HOSTILE_INFOS.entries()) {
    await attacker.publishAsync(`pipdu/evil${i}/info`, payload, { qos: 1, retain: true });
    await attacker.publishAsync(`pipdu/evil${i}/outlet/1/state`, "ON", { qos: 1, retain: true });
  }
  for (const payload of HOSTILE_INFOS) await attacker.publishAsync("pipdu/pdu1/info", payload, { qos: 1 });
  t.like(await switchOutlet(first.base, 2, "on"), { status: "ok", state: "ON" });
  t.is(first.child.exitCode, null, "pipdu start is still running");
  const pdus = (await (await fetch(`${first.base}/api/pdus`)).json()) as { id: string; outlets: unknown[] }[];
  t.deepEqual(
    pdus.map((p) => [p.id, p.outlets.length]),
    [["pdu1", 16]],
    "only the real PDU is listed, with its real outlets",
  );
  // The embedded broker's own policy may refuse these publishes before any part reads them; where a broker
  // passes them on (Mosquitto without an ACL), the drops are counted: test/fuzz-parts.test.ts.

  // The retained junk is still on the broker: a restart reads it first thing.
  first.child.kill("SIGTERM");
  await exited(first.child);
  const second = await startAll(t, stateDir, ports);
  t.like(await switchOutlet(second.base, 2, "off"), { status: "ok", state: "OFF" });
  t.is(second.child.exitCode, null);
});

test("malformed info does not kill a separate pipdu gateway or pipdu panel", async (t) => {
  t.timeout(120_000);
  const [brokerPort, httpPort, pdPort, panelPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const url = `mqtt://127.0.0.1:${brokerPort}`;
  const common = { PIPDU_STATE_DIR: tempDir(t), PIPDU_MQTT_URL: url };
  // No WebSocket listener: its default port (9001) may be taken on a test machine.
  const broker = spawnPipdu(t, ["broker"], {
    ...common,
    PIPDU_BROKER_PORT: String(brokerPort),
    PIPDU_BROKER_WS_PORT: "0",
  });
  await waitForPort(brokerPort, 60_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; the broker said: ${broker.output()}`);
  });
  const attacker = await connectClient(t, url, { protocolVersion: 4 });
  for (const [i, payload] of HOSTILE_INFOS.entries())
    await attacker.publishAsync(`pipdu/evil${i}/info`, payload, { qos: 1, retain: true });
  const gateway = spawnPipdu(t, ["gateway"], {
    ...common,
    PIPDU_HTTP_PORT: String(httpPort),
    PIPDU_PDUDAEMON_PORT: String(pdPort),
    PIPDU_GATEWAY_HOST: "127.0.0.1",
  });
  const panel = spawnPipdu(t, ["panel"], { ...common, PIPDU_PANEL_PORT: String(panelPort) });
  const pdu = spawnPipdu(t, ["pdu"], { ...common, PIPDU_HARDWARE: "sim" });
  await eventually("the gateway", () => (gateway.output().includes("piPDU gateway") ? true : undefined));
  await waitForPdu(`http://127.0.0.1:${httpPort}`, "pdu1", 16);
  for (const [i, payload] of HOSTILE_INFOS.entries())
    await attacker.publishAsync(`pipdu/live${i}/info`, payload, { qos: 1 });
  t.like(await switchOutlet(`http://127.0.0.1:${httpPort}`, 4, "on"), { status: "ok" });
  const press = await fetch(`http://127.0.0.1:${panelPort}/api/panel`);
  t.is(press.status, 200, "the panel still answers");
  t.is(gateway.exitCode, null, "the gateway is still running");
  t.is(panel.exitCode, null, "the panel is still running");
  t.is(pdu.exitCode, null);
});

// Hostile payloads — wrong types, nulls, empty lists, huge numbers, binary, prototype keys — on every topic
// any piPDU part subscribes to (the agent's commands and Home Assistant's status, the gateway's and the
// panel's PDU topics, the response level), live and retained, against all parts in one process
// (`pipdu start`) and as separate processes. Afterwards every process is alive and valid commands, from the
// REST API and from the panel, are still obeyed.
import test, { type ExecutionContext } from "ava";
import type { IPublishPacket, MqttClient } from "mqtt";
import { connectClient } from "./helpers/mqtt-clients.ts";
import { BROKERS, eventually, exited, freePort, spawnPipdu, startBroker, tempDir } from "./helpers/system.ts";
import { waitForPdu } from "./gateway-harness.ts";

const PDUS = ["pdu1", "ghost"];
const OUTLETS = ["1", "16", "0", "99", "x"];

function topics(): string[] {
  const list = ["homeassistant/status", "pipdu/response/x/result", "pipdu/response/pipdu-gateway-0/result"];
  for (const pdu of PDUS) {
    const p = `pipdu/${pdu}`;
    list.push(
      ...["availability", "info", "result", "diagnostics", "telemetry", "pending", "alarm", "set"].map(
        (k) => `${p}/${k}`,
      ),
      ...["power", "current", "energy"].map((m) => `${p}/total/${m}`),
    );
    for (const n of OUTLETS) {
      list.push(
        ...["state", "power", "current", "energy", "fault", "power_on_behavior", "power_on_behavior/set"].map(
          (m) => `${p}/outlet/${n}/${m}`,
        ),
      );
    }
    // Commands with a bad payload only: a valid one may switch, which is every client's right.
    list.push(`${p}/outlet/5/set`);
  }
  return list;
}

const PAYLOADS: (string | Buffer)[] = [
  "null",
  "[]",
  "[null]",
  "{}",
  '{"outlets":[null]}',
  '{"outlets":[]}',
  '{"pdu":"pdu1","name":null,"outlets":"16"}',
  '{"pdu":"pdu1","outlets":[{"number":1e308,"name":{},"protected":null}]}',
  '{"__proto__":{"outlets":[{"number":1}],"status":"ok","active":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"outlet":1,"command":"on","status":"ok","transaction":{"__proto__":null},"outlets":{"__proto__":"ON"}}',
  '[{"id":1e400,"outlet":-1,"action":"on","dueAt":"soon"}]',
  '{"linkErrors":"many","linkFailures":-1e308}',
  '{"active":1,"outlets":[null],"shed":"all"}',
  "1e308",
  "-1e308",
  "9".repeat(400),
  "NaN",
  "-0",
  "offline",
  "ON\u0000",
  "\ufeffonline",
  Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0xc3, 0x28]),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
];
/** A 100 kB payload too, on a few topics (kept few: each retained copy is stored by the broker). */
const HUGE = Buffer.alloc(100 * 1024, "{");
const HUGE_ON = new Set([
  "pipdu/pdu1/info",
  "pipdu/pdu1/availability",
  "pipdu/pdu1/outlet/1/state",
  "pipdu/pdu1/result",
]);

async function fuzz(client: MqttClient, retain: boolean): Promise<number> {
  let sent = 0;
  for (const topic of topics()) {
    for (const payload of HUGE_ON.has(topic) ? [...PAYLOADS, HUGE] : PAYLOADS) {
      await client.publishAsync(topic, payload, { qos: 1, retain });
      sent++;
    }
  }
  return sent;
}

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function outletState(base: string, n: number): Promise<string | null> {
  const outlet = (await (await fetch(`${base}/api/pdus/pdu1/outlets/${n}`)).json()) as {
    state: string | null;
  };
  return outlet.state;
}

/** A REST command and a press on the panel, both obeyed. */
async function stillObeys(t: ExecutionContext, base: string, panel: string): Promise<void> {
  t.like(await post(`${base}/api/pdus/pdu1/outlets/2`, { action: "on" }), {
    status: 200,
    body: { status: "ok", state: "ON" },
  });
  const before = await outletState(base, 4);
  const press = await fetch(`${panel}/api/buttons/4/press`, { method: "POST", body: '{"ms":2000}' });
  t.is(press.status, 200, "the panel takes a press");
  await eventually("the panel's press to switch outlet 4", async () =>
    (await outletState(base, 4)) !== before ? true : undefined,
  );
}

async function waitForGateway(base: string): Promise<void> {
  await eventually(
    "the gateway",
    async () => ((await fetch(`${base}/healthz`).catch(() => null))?.status === 200 ? true : undefined),
    30_000,
  );
  await waitForPdu(base, "pdu1", 16);
}

async function waitForPanel(panel: string): Promise<void> {
  await eventually(
    "the panel page",
    async () => ((await fetch(`${panel}/api/panel`).catch(() => null))?.status === 200 ? true : undefined),
    30_000,
  );
}

test("pipdu start (broker, agent, panel, gateway in one process) survives hostile payloads on every topic, live and retained, and a restart onto them", async (t) => {
  t.timeout(240_000);
  const stateDir = tempDir(t);
  const [brokerPort, httpPort, pdPort, panelPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const start = () =>
    spawnPipdu(t, ["start"], {
      PIPDU_STATE_DIR: stateDir,
      PIPDU_HARDWARE: "sim",
      PIPDU_BROKER_PORT: String(brokerPort),
      PIPDU_BROKER_WS_PORT: "0",
      PIPDU_HTTP_PORT: String(httpPort),
      PIPDU_PDUDAEMON_PORT: String(pdPort),
      PIPDU_PANEL_PORT: String(panelPort),
    });
  const base = `http://127.0.0.1:${httpPort}`;
  const panel = `http://127.0.0.1:${panelPort}`;
  let child = start();
  await waitForGateway(base);
  const fuzzer = await connectClient(t, `mqtt://127.0.0.1:${brokerPort}`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const live = await fuzz(fuzzer, false);
  const retained = await fuzz(fuzzer, true);
  t.is(child.exitCode, null, "alive after the live and retained fuzz");
  await stillObeys(t, base, panel);
  await fuzzer.endAsync();

  // The retained junk is read again at start-up.
  child.kill("SIGTERM");
  await exited(child);
  child = start();
  await waitForGateway(base);
  await waitForPanel(panel);
  await stillObeys(t, base, panel);
  t.is(child.exitCode, null, "alive after a restart onto the retained junk");
  t.notRegex(child.output(), /uncaught|unhandled|TypeError|RangeError/i);
  t.log(`${live} live and ${retained} retained messages on ${topics().length} topics`);
});

for (const kind of BROKERS) {
  test(`[${kind}] separate pdu, panel and gateway processes survive hostile payloads on every topic, retained before they start and live`, async (t) => {
    t.timeout(240_000);
    const broker = await startBroker(t, kind);
    // The embedded broker speaks MQTT 3.1.1 only.
    const fuzzer = await connectClient(t, broker.url, { protocolVersion: kind === "mosquitto" ? 5 : 4 });
    const retained = await fuzz(fuzzer, true);
    const [httpPort, pdPort, panelPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const common = { PIPDU_MQTT_URL: broker.url, PIPDU_STATE_DIR: tempDir(t) };
    const pdu = spawnPipdu(t, ["pdu"], { ...common, PIPDU_HARDWARE: "sim" });
    const gateway = spawnPipdu(t, ["gateway"], {
      ...common,
      PIPDU_HTTP_PORT: String(httpPort),
      PIPDU_PDUDAEMON_PORT: String(pdPort),
    });
    const panelProcess = spawnPipdu(t, ["panel"], { ...common, PIPDU_PANEL_PORT: String(panelPort) });
    const base = `http://127.0.0.1:${httpPort}`;
    const panel = `http://127.0.0.1:${panelPort}`;
    await waitForGateway(base);
    await waitForPanel(panel);
    const live = await fuzz(fuzzer, false);
    // MQTT 5: junk on the very response topic each command names, with its correlation data, ahead of the agent.
    let junked = 0;
    if (kind === "mosquitto") {
      await fuzzer.subscribeAsync("pipdu/+/outlet/+/set", { qos: 1 });
      fuzzer.on("message", (_topic, _payload, packet: IPublishPacket) => {
        const responseTopic = packet.properties?.responseTopic;
        const correlationData = packet.properties?.correlationData;
        if (typeof responseTopic !== "string") return;
        junked++;
        for (const payload of PAYLOADS)
          void fuzzer.publishAsync(responseTopic, payload, {
            qos: 1,
            ...(correlationData ? { properties: { correlationData } } : {}),
          });
      });
    }
    for (const [name, child] of [
      ["pdu", pdu],
      ["gateway", gateway],
      ["panel", panelProcess],
    ] as const) {
      t.is(child.exitCode, null, `${name} is alive`);
      t.notRegex(child.output(), /uncaught|unhandled|TypeError|RangeError/i, name);
    }
    await stillObeys(t, base, panel);
    if (kind === "mosquitto") t.true(junked >= 2, "the REST command and the panel's press drew junk answers");
    t.regex(gateway.output(), /dropped info message: invalid/, "the gateway says what it dropped");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    t.regex(metrics, /pipdu_gateway_messages_dropped_total\{kind="info",reason="invalid"\} \d+/);
    t.log(`${kind}: ${retained} retained then ${live} live messages on ${topics().length} topics`);
  });
}

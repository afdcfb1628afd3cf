// Every command names its real source in the agent's log and in its result: mosquitto_pub, an MQTT 5
// client naming itself, the REST API, PDUDaemon over HTTP and TCP (with the client's address), the panel.
// MQTT 5 user properties need a broker that speaks MQTT 5: Mosquitto.
import test from "ava";
import { pduclientTcp, startGateway, waitForPdu } from "./gateway-harness.ts";
import { collectMessages, connectClient } from "./helpers/mqtt-clients.ts";
import {
  eventually,
  freePort,
  hasMosquitto,
  mosquittoPub,
  recordingLogger,
  spawnPipdu,
  startAgent,
  startBroker,
  testSettings,
} from "./helpers/system.ts";

const mosquittoTest = hasMosquitto ? test : test.skip;
const T = "pipdu/pdu1";

mosquittoTest(
  "[mosquitto] the log and the result name each command's source, for every entry point",
  async (t) => {
    const broker = await startBroker(t, "mosquitto");
    const { logger, lines } = recordingLogger();
    const settings = testSettings(t, { mqtt: { url: broker.url, protocol: "5" } });
    await startAgent(t, settings, [], { logger });
    const observer = await connectClient(t, broker.url, { protocolVersion: 5 });
    const seen = collectMessages(observer);
    await observer.subscribeAsync(`${T}/result`, { qos: 1 });
    const resultFor = (outlet: number) =>
      eventually(`result for outlet ${outlet}`, () => {
        const m = seen.find((r) => (JSON.parse(r.payload) as { outlet: number }).outlet === outlet);
        return m ? (JSON.parse(m.payload) as { source: string }) : undefined;
      });
    const logFor = (outlet: number) =>
      eventually(`log line for outlet ${outlet}`, () =>
        lines.find((l) => l.includes(`outlet ${outlet} on from `)),
      );

    await mosquittoPub(broker.port, `${T}/outlet/1/set`, "ON");
    t.is((await resultFor(1)).source, "mqtt");
    t.regex(await logFor(1), /outlet 1 on from mqtt: ok/);

    await observer.publishAsync(`${T}/outlet/2/set`, "ON", {
      qos: 1,
      properties: { userProperties: { source: "lab-script" } },
    });
    t.is((await resultFor(2)).source, "lab-script");
    t.regex(await logFor(2), /outlet 2 on from lab-script: ok/);

    const gateway = await startGateway(t, { ...settings, gateway: { ...settings.gateway, token: null } });
    await waitForPdu(gateway.base, "pdu1");
    const rest = await fetch(`${gateway.base}/api/pdus/pdu1/outlets/3`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "on" }),
    });
    t.is(rest.status, 200);
    t.regex((await resultFor(3)).source, /^rest (::ffff:)?127\.0\.0\.1$/);
    t.regex(await logFor(3), /outlet 3 on from rest (::ffff:)?127\.0\.0\.1: ok/);

    const http = await fetch(`${gateway.base}/power/control/on?hostname=pdu1&port=4`);
    t.is(http.status, 200);
    t.regex((await resultFor(4)).source, /^pdudaemon-http (::ffff:)?127\.0\.0\.1$/);
    t.regex(await logFor(4), /from pdudaemon-http /);

    t.is((await pduclientTcp(gateway.pdudaemonPort, "pdu1 5 on")).toString(), "ack\n");
    t.regex((await resultFor(5)).source, /^pdudaemon-tcp (::ffff:)?127\.0\.0\.1$/);
    t.regex(await logFor(5), /from pdudaemon-tcp /);

    const port = await freePort();
    spawnPipdu(t, ["panel"], {
      PIPDU_MQTT_URL: broker.url,
      PIPDU_MQTT_PROTOCOL: "5",
      PIPDU_PANEL_DRIVER: "sim",
      PIPDU_PANEL_PORT: String(port),
    });
    await eventually("the panel page", async () =>
      (await fetch(`http://127.0.0.1:${port}/api/panel`).catch(() => null))?.ok === true ? true : undefined,
    );
    await eventually("the panel sees pdu1 online", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/panel`);
      const panel = (await res.json()) as { lcd: string[] };
      return panel.lcd[0]?.startsWith("piPDU ") === true ? true : undefined;
    });
    // Hold button 6 for 2 s: a long press switches outlet 6.
    await fetch(`http://127.0.0.1:${port}/api/buttons/6/press`, {
      method: "POST",
      body: JSON.stringify({ ms: 2000 }),
    });
    t.regex((await resultFor(6)).source, /^panel \S+$/);
    t.regex(await logFor(6), /outlet 6 on from panel \S+: ok/);
  },
);

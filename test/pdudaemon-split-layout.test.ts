// The separate layout: `pipdu broker`, `pipdu pdu` running the PDUs of a PDUDaemon config (and one declared
// in piPDU's own `pdudaemon.pdus`), and `pipdu gateway` answering the PDUDaemon API by their hostnames and
// by the config's aliases. A driver piPDU does not have is reported by name; the other PDUs run.
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import { waitForPdu } from "./gateway-harness.ts";
import { eventually, exited, freePort, spawnPipdu, tempDir, waitForPort } from "./helpers/system.ts";

test("pipdu pdu runs a PDUDaemon config's PDUs and pipdu gateway serves them by hostname and alias", async (t) => {
  t.timeout(90_000);
  const dir = tempDir(t);
  const log = path.join(dir, "switched.log");
  const file = path.join(dir, "pdudaemon.conf");
  fs.writeFileSync(
    file,
    JSON.stringify({
      daemon: { hostname: "0.0.0.0", port: 16421, listener: "http" },
      pdus: {
        "Lab-Strip.1": {
          driver: "localcmdline",
          cmd_on: `echo 'strip %s on' >> ${log}`,
          cmd_off: `echo 'strip %s off' >> ${log}`,
          retries: 2,
          retrydelay: 0,
        },
        "ap-9999": { driver: "no_such_driver" },
      },
      aliases: { "board-a": { hostname: "Lab-Strip.1", port: 5 } },
    }),
  );
  const [brokerPort, httpPort, pdPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const mqttUrl = `mqtt://127.0.0.1:${brokerPort}`;
  spawnPipdu(t, ["broker"], {
    PIPDU_BROKER_HOST: "127.0.0.1",
    PIPDU_BROKER_PORT: String(brokerPort),
    PIPDU_BROKER_WS_PORT: "0",
    PIPDU_STATE_DIR: path.join(dir, "broker"),
  });
  await waitForPort(brokerPort);
  const pdu = spawnPipdu(t, ["pdu"], {
    PIPDU_MQTT_URL: mqttUrl,
    PIPDU_HARDWARE: "sim",
    PIPDU_STATE_DIR: path.join(dir, "pdu"),
    PIPDU_PDUDAEMON_CONFIG: file,
    PIPDU_PDUDAEMON_PDUS: JSON.stringify({
      "relay-box": { driver: "localcmdline", cmd_on: `echo 'box %s on' >> ${log}`, outlets: 2 },
    }),
  });
  spawnPipdu(t, ["gateway"], {
    PIPDU_MQTT_URL: mqttUrl,
    PIPDU_HTTP_PORT: String(httpPort),
    PIPDU_PDUDAEMON_PORT: String(pdPort),
    PIPDU_GATEWAY_HOST: "127.0.0.1",
    PIPDU_PDUDAEMON_CONFIG: file,
  });
  await waitForPort(httpPort);
  await waitForPdu(`http://127.0.0.1:${httpPort}`, "lab-strip-1", 8);
  await waitForPdu(`http://127.0.0.1:${httpPort}`, "relay-box", 2);
  t.regex(
    pdu.output(),
    /PDU "ap-9999" \(no_such_driver\): driver "no_such_driver" is not supported by piPDU/,
  );

  const get = async (query: string): Promise<number> =>
    (await fetch(`http://127.0.0.1:${pdPort}/power/control/${query}`)).status;
  t.is(await get("on?hostname=Lab-Strip.1&port=3"), 200);
  t.is(await get("reboot?alias=board-a&delay=0"), 200);
  t.is(await get("on?hostname=relay-box&port=2"), 200);
  t.is(await get("on?hostname=Lab-Strip.2&port=1"), 503);
  const lines = (): string[] => fs.readFileSync(log, "utf8").split("\n").filter(Boolean);
  await eventually("the commands", () => (lines().length >= 4 ? true : undefined));
  t.deepEqual(lines(), ["strip 3 on", "strip 5 off", "strip 5 on", "box 2 on"]);
});

test("a PDUDaemon config that is not JSON stops pipdu pdu with one line naming the file", async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, "pdudaemon.conf");
  fs.writeFileSync(file, '{"pdus": {');
  const child = spawnPipdu(t, ["pdu"], {
    PIPDU_MQTT_URL: "mqtt://127.0.0.1:1",
    PIPDU_HARDWARE: "sim",
    PIPDU_STATE_DIR: dir,
    PIPDU_PDUDAEMON_CONFIG: file,
  });
  t.is(await exited(child), 1);
  t.regex(
    child.output(),
    new RegExp(`pdudaemon\\.config \\(PIPDU_PDUDAEMON_CONFIG\\) = "${file}": not JSON`),
  );
});

// An unchanged PDUDaemon configuration under `pipdu start`: an APC-style SNMP PDU (snmpd), a Modbus TCP relay
// board (pymodbus) and a localcmdline PDU, switched by Debian's pduclient and labgrid-style HTTP requests by
// hostname and by alias, each online on MQTT under its derived id, obeying mosquitto_pub, and in Home
// Assistant's discovery. The devices' own records (snmpd's set log, the board's coil log, the command's
// output file) show what each was told.
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import test from "ava";
import { waitForPdu } from "./gateway-harness.ts";
import { hasPymodbus, hasSnmpd, startModbusServer, startSnmpd } from "./helpers/protocol-servers.ts";
import {
  eventually,
  freePort,
  hasMosquitto,
  mosquittoPub,
  mosquittoSub,
  spawnPipdu,
  tempDir,
} from "./helpers/system.ts";

const hasPduclient = spawnSync("pduclient", ["--help"]).error === undefined;
// pduclient -H imports python-requests (Debian: python3-requests, not a dependency of pdudaemon-client).
const hasRequests = spawnSync("/usr/bin/python3", ["-c", "import requests"]).status === 0;
const PDUDAEMON_PORT = 16421; // pduclient always dials it

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function pduclient(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile("pduclient", ["--daemon", "127.0.0.1", ...args], (err, stdout) =>
      resolve({ code: err ? Number(err.code) : 0, out: stdout }),
    );
  });
}

const ready = hasSnmpd && hasPymodbus && hasPduclient && hasMosquitto;
(ready ? test : test.skip)(
  "a PDUDaemon config with SNMP, Modbus and localcmdline PDUs runs under pipdu start: pduclient and HTTP by hostname and alias, mosquitto_pub, discovery",
  async (t) => {
    t.timeout(120_000);
    if (!(await portFree(PDUDAEMON_PORT))) {
      t.fail(`port ${PDUDAEMON_PORT} is in use; pduclient can only dial it`);
      return;
    }
    const [snmpd, board] = await Promise.all([startSnmpd(t), startModbusServer(t)]);
    const dir = tempDir(t);
    const local = path.join(dir, "local.log");
    const snmpHost = `127.0.0.1:${snmpd.port}`;
    const snmpId = `127-0-0-1-${snmpd.port}`;
    const config = {
      daemon: { hostname: "0.0.0.0", port: PDUDAEMON_PORT, logging_level: "DEBUG", listener: "tcp" },
      pdus: {
        [snmpHost]: {
          driver: "snmpv1",
          community: "private",
          mib: "PowerNet-MIB",
          controlpoint: "sPDUOutletCtl",
          onsetting: "1",
          offsetting: 2,
          poll_interval: 0.5,
        },
        "127.0.0.1": { driver: "modbustcp", port: board.port, unit: 1, poll_interval: 0.5 },
        "PDU05.lab": {
          driver: "localcmdline",
          cmd_on: `echo '%s on' >> ${local}`,
          cmd_off: `echo '%s off' >> ${local}`,
        },
        apc7952: { driver: "apc7952", telnetport: 5023 },
      },
      aliases: {
        "dut-snmp": { hostname: snmpHost, port: 3 },
        "dut-modbus": { hostname: "127.0.0.1", port: 2 },
        "dut-local": { hostname: "PDU05.lab", port: 4 },
      },
    };
    const file = path.join(dir, "pdudaemon.conf");
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    const [brokerPort, httpPort] = await Promise.all([freePort(), freePort()]);
    const child = spawnPipdu(t, ["start"], {
      PIPDU_PDUDAEMON_CONFIG: file,
      PIPDU_STATE_DIR: path.join(dir, "state"),
      PIPDU_HARDWARE: "sim",
      PIPDU_BROKER_PORT: String(brokerPort),
      PIPDU_BROKER_WS_PORT: "0",
      PIPDU_HTTP_PORT: String(httpPort),
      PIPDU_PDUDAEMON_PORT: String(PDUDAEMON_PORT),
      PIPDU_GATEWAY_HOST: "127.0.0.1",
      PIPDU_PANEL_ENABLED: "false",
    });
    const gateway = `http://127.0.0.1:${httpPort}`;
    await eventually("the gateway", () => (child.output().includes("page:") ? true : undefined), 30_000);
    for (const id of [snmpId, "127-0-0-1", "pdu05-lab"]) await waitForPdu(gateway, id, 8);
    t.regex(child.output(), /PDU "apc7952" \(apc7952\): driver "apc7952" is not supported by piPDU/);

    // pduclient (TCP), by the hostnames of the PDUDaemon config.
    t.deepEqual(await pduclient(["--hostname", snmpHost, "--port", "3", "--command", "on"]), {
      code: 0,
      out: "Command sent successfully.\n",
    });
    t.is((await pduclient(["--hostname", "127.0.0.1", "--port", "02", "--command", "on"])).code, 0);
    t.is(
      (await pduclient(["--hostname", "PDU05.lab", "--port", "4", "--command", "reboot", "--delay", "1"]))
        .code,
      0,
    );
    t.deepEqual(snmpd.sets(), ["3 1"]);
    t.deepEqual(board.writes(), ["coil 2 1"]);
    t.deepEqual(fs.readFileSync(local, "utf8").split("\n").filter(Boolean), ["4 off", "4 on"]);

    const http = async (query: string): Promise<[number, string]> => {
      const response = await fetch(`http://127.0.0.1:${PDUDAEMON_PORT}/power/control/${query}`);
      return [response.status, await response.text()];
    };
    // pduclient -H (HTTP, python-requests) by hostname, as a LAVA device dictionary may run it.
    if (hasRequests) {
      t.is((await pduclient(["-H", "--hostname", snmpHost, "--port", "1", "--command", "on"])).code, 0);
      t.deepEqual(snmpd.sets(), ["3 1", "1 1"]);
    } else {
      t.log("python3-requests is not installed: pduclient -H not run");
      t.is((await http(`on?hostname=${snmpHost}&port=1`))[0], 200);
    }

    // labgrid's PDUDaemon driver (HTTP), by hostname and by alias.
    t.deepEqual(await http(`off?hostname=${snmpHost}&port=1`), [200, "OK - accepted request\n"]);
    t.deepEqual(await http("off?alias=dut-snmp"), [200, "OK - accepted request\n"]);
    t.deepEqual(await http("reboot?alias=dut-modbus&delay=1"), [200, "OK - accepted request\n"]);
    t.deepEqual(await http("off?alias=dut-local"), [200, "OK - accepted request\n"]);
    t.deepEqual(snmpd.sets(), ["3 1", "1 1", "1 2", "3 2"]);
    t.deepEqual(board.writes(), ["coil 2 1", "coil 2 0", "coil 2 1"]);
    t.deepEqual(fs.readFileSync(local, "utf8").split("\n").filter(Boolean), ["4 off", "4 on", "4 off"]);
    // A hostile port never reaches a command line.
    t.not((await http(`on?hostname=PDU05.lab&port=${encodeURIComponent("1;touch pwned")}`))[0], 200);
    t.false(fs.existsSync(path.join(process.cwd(), "pwned")));

    // MQTT: each PDU is online under its derived id, in discovery, and obeys mosquitto_pub.
    const drivers: Record<string, string> = {
      [snmpId]: "snmpv1",
      "127-0-0-1": "modbustcp",
      "pdu05-lab": "localcmdline",
    };
    for (const [id, driver] of Object.entries(drivers)) {
      const availability = mosquittoSub(brokerPort, `pipdu/${id}/availability`, 1, 10);
      t.deepEqual(await availability.lines, [`pipdu/${id}/availability online`]);
      const discovery = mosquittoSub(brokerPort, `homeassistant/device/pipdu_${id}/config`, 1, 10);
      const [line = ""] = await discovery.lines;
      const payload = JSON.parse(line.slice(line.indexOf(" ") + 1)) as {
        components?: Record<string, unknown>;
        device?: { model?: string };
      };
      t.is(payload.device?.model, `PDU through piPDU's ${driver} driver`);
      for (let n = 1; n <= 8; n++)
        t.truthy(payload.components?.[`outlet_${n}`], `${id} outlet ${n} in discovery`);
    }
    const results = mosquittoSub(brokerPort, "pipdu/+/result", 3, 20);
    await results.ready;
    await mosquittoPub(brokerPort, `pipdu/${snmpId}/outlet/5/set`, "ON");
    await mosquittoPub(brokerPort, "pipdu/127-0-0-1/outlet/6/set", "ON");
    await mosquittoPub(brokerPort, "pipdu/pdu05-lab/outlet/7/set", "ON");
    const lines = await results.lines;
    t.is(lines.length, 3);
    for (const line of lines) t.regex(line, /"status":"ok"/);
    await eventually("the SNMP set", () => (snmpd.sets().includes("5 1") ? true : undefined));
    t.true(board.writes().includes("coil 6 1"));
    t.true(fs.readFileSync(local, "utf8").includes("7 on"));
    const state = mosquittoSub(brokerPort, `pipdu/${snmpId}/outlet/5/state`, 1, 10);
    t.deepEqual(await state.lines, [`pipdu/${snmpId}/outlet/5/state ON`]);
  },
);

// Real protocol servers for the driver tests: Net-SNMP's snmpd serving an outlet-control column through a
// pass_persist script, and pymodbus's Modbus TCP server. Each records what it was told (a log file, stdout),
// so a test checks the device's side independently of the driver under test.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { ExecutionContext } from "ava";
import { ROOT, freePort, tempDir, waitForPort } from "./system.ts";

const FIXTURES = path.join(ROOT, "test/fixtures/drivers");
/** Debian's interpreter, where python3-pymodbus is installed (a python3 earlier on PATH may lack it). */
export const PYTHON = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
export const APC_OUTLET_CTL = "1.3.6.1.4.1.318.1.1.4.4.2.1.3";
export const APC_OUTLET_CURRENT = "1.3.6.1.4.1.318.1.1.26.9.4.3.1.6";

export const hasSnmpd = spawnSync("/usr/sbin/snmpd", ["-v"]).error === undefined;
export const hasPymodbus = spawnSync(PYTHON, ["-c", "import pymodbus"]).status === 0;
if (process.env["CI"] === "true" && (!hasSnmpd || !hasPymodbus))
  throw new Error(
    "CI must test the drivers against snmpd and pymodbus (apt-get install snmpd snmp python3-pymodbus)",
  );

function stopOnTeardown(t: ExecutionContext, child: ChildProcess): void {
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await gone;
  });
}

export interface Snmpd {
  port: number;
  /** Sets the PDU accepted, in order: "<outlet> <value>". */
  sets(): string[];
}

/** snmpd on a free UDP port: v1 community `private` (read-write), v3 user `pipdu` (SHA + AES), 8 outlets. */
export async function startSnmpd(t: ExecutionContext): Promise<Snmpd> {
  const dir = tempDir(t, "pipdu-snmpd-");
  const port = await freePort();
  const log = path.join(dir, "sets.log");
  fs.mkdirSync(path.join(dir, "persist"));
  const conf = path.join(dir, "agent.conf");
  fs.writeFileSync(
    conf,
    [
      `agentAddress udp:127.0.0.1:${port}`,
      "rwcommunity private 127.0.0.1",
      'createUser pipdu SHA "pipdu-auth-pass" AES "pipdu-priv-pass"',
      "rwuser pipdu priv",
      `pass_persist .${APC_OUTLET_CTL} ${PYTHON} ${FIXTURES}/snmp-outlets.py .${APC_OUTLET_CTL} 8 ${log}`,
      // Metered current in tenths of an ampere, as APC's rPDU2OutletMeteredStatusCurrent: 0.5 A, 1.2 A, 0, …
      `pass_persist .${APC_OUTLET_CURRENT} ${PYTHON} ${FIXTURES}/snmp-outlets.py .${APC_OUTLET_CURRENT} 8 /dev/null 5 12 0 0 0 0 0 0`,
      "",
    ].join("\n"),
  );
  const child = spawn(
    "/usr/sbin/snmpd",
    ["-f", "-Lf", path.join(dir, "snmpd.log"), "-C", "-c", conf, "-M", "/dev/null"],
    {
      env: { ...process.env, SNMP_PERSISTENT_DIR: path.join(dir, "persist") },
      stdio: "ignore",
    },
  );
  stopOnTeardown(t, child);
  // Ready when it answers a get (snmpget is the Net-SNMP client from the `snmp` package).
  for (let i = 0; ; i++) {
    const probe = spawnSync("snmpget", [
      "-v1",
      "-c",
      "private",
      "-r",
      "0",
      "-t",
      "0.3",
      `127.0.0.1:${port}`,
      `.${APC_OUTLET_CTL}.1`,
    ]);
    if (probe.status === 0) break;
    if (i > 50) throw new Error(`snmpd did not answer on udp ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    sets: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : []),
  };
}

export interface ModbusServer {
  port: number;
  /** Coil writes the board received, in order: "coil <n> <0|1>". */
  writes(): string[];
}

export async function startModbusServer(t: ExecutionContext): Promise<ModbusServer> {
  const port = await freePort();
  const child = spawn(PYTHON, [path.join(FIXTURES, "modbus-server.py"), String(port)], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  stopOnTeardown(t, child);
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  for (let i = 0; !out.includes(`listening ${port}`); i++) {
    if (child.exitCode !== null || i > 100) throw new Error("the pymodbus server did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  // The script prints half a second after starting the server, which a busy machine can outrun.
  await waitForPort(port);
  return { port, writes: () => out.split("\n").filter((l) => l.startsWith("coil ")) };
}

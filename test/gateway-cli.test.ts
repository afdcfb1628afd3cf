// The "done when", end to end: `pipdu start` (embedded broker, simulated PDU, gateway) as its own
// process, driven by `pipdu client` the way a LAVA device dictionary runs pduclient, in TCP and -H modes.
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import { ROOT, freePort, spawnPipdu, tempDir } from "./helpers/system.ts";
import { waitForPdu } from "./gateway-harness.ts";

function pipduClient(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "bin/pipdu.js"), "client", ...args],
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, out: stdout + stderr });
      },
    );
  });
}

async function outletState(base: string, n: number): Promise<string | null> {
  const outlet = (await (await fetch(`${base}/api/pdus/pdu1/outlets/${n}`)).json()) as {
    state: string | null;
  };
  return outlet.state;
}

test("pipdu start serves the gateway; pipdu client reboots outlet 3 over TCP and -H with pduclient's exit codes", async (t) => {
  const [brokerPort, httpPort, pdPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const child = spawnPipdu(t, ["start"], {
    PIPDU_STATE_DIR: tempDir(t),
    PIPDU_HARDWARE: "sim",
    PIPDU_BROKER_PORT: String(brokerPort),
    PIPDU_BROKER_WS_PORT: "0",
    PIPDU_HTTP_PORT: String(httpPort),
    PIPDU_PDUDAEMON_PORT: String(pdPort),
    PIPDU_GATEWAY_HOST: "127.0.0.1",
    PIPDU_PANEL_ENABLED: "false",
  });
  const base = `http://127.0.0.1:${httpPort}`;
  for (let i = 0; i < 400 && !child.output().includes("page:"); i++)
    await new Promise((r) => setTimeout(r, 50));
  t.regex(child.output(), new RegExp(`page: +http://127\\.0\\.0\\.1:${httpPort}/`));
  await waitForPdu(base, "pdu1", 16);
  const daemon = `127.0.0.1:${pdPort}`;

  let run = await pipduClient([
    "--daemon",
    daemon,
    "--hostname",
    "pdu1",
    "--port",
    "3",
    "--command",
    "reboot",
    "--delay",
    "1",
  ]);
  t.deepEqual(run, { code: 0, out: "Command sent successfully.\n" });
  t.is(await outletState(base, 3), "ON");
  run = await pipduClient([
    "-H",
    `--daemon=${daemon}`,
    "--hostname=pdu1",
    "--port=03",
    "--command=reboot",
    "--delay=1",
  ]);
  t.deepEqual(run, { code: 0, out: "Command sent successfully.\n" });
  run = await pipduClient(["--daemon", daemon, "--hostname", "pdu1", "--port", "08", "--command", "off"]);
  t.is(run.code, 0);
  t.is(await outletState(base, 8), "OFF");

  run = await pipduClient(["--daemon", daemon, "--hostname", "nope", "--port", "3", "--command", "on"]);
  t.is(run.code, 127);
  t.regex(run.out, /^Error sending command! 127\.0\.0\.1:\d+ replied: nack: no PDU "nope" on the bus/);
  run = await pipduClient(["-H", "--daemon", daemon, "--hostname", "nope", "--port", "3", "--command", "on"]);
  t.deepEqual(run, { code: 127, out: `Error sending command! ${daemon} replied: <Response [503]>\n` });
  run = await pipduClient([
    "--daemon",
    `127.0.0.1:${await freePort()}`,
    "--hostname",
    "pdu1",
    "--port",
    "3",
    "--command",
    "on",
  ]);
  t.deepEqual(run, { code: 1, out: "Error sending command, wrong daemon hostname?\n" });
  run = await pipduClient(["--daemon", daemon, "--hostname", "pdu1", "--command", "on"]);
  t.deepEqual(run, { code: 1, out: "Missing option, try -h for help\n" });
  run = await pipduClient(["--daemon", daemon, "--hostname", "pdu1", "--port", "3", "--command", "explode"]);
  t.deepEqual(run, { code: 1, out: "Unknown pdu command: explode\n" });

  // The labgrid URL on the same port.
  const labgrid = await fetch(`http://${daemon}/power/control/reboot?hostname=pdu1&port=3&delay=1`);
  t.is(labgrid.status, 200);
  t.is(await outletState(base, 3), "ON");
});

// Upstream's own pduclient (needs only the Python standard library in TCP mode; it always dials port 16421).
// Point PIPDU_TEST_PDUCLIENT at a copy of github.com/pdudaemon/pdudaemon's `pduclient` to run it.
const pduclient = process.env["PIPDU_TEST_PDUCLIENT"];
(pduclient !== undefined && fs.existsSync(pduclient) ? test : test.skip)(
  "upstream pduclient (TCP) reboots outlet 3 and exits 0",
  async (t) => {
    const brokerPort = await freePort();
    const httpPort = await freePort();
    const child = spawnPipdu(t, ["start"], {
      PIPDU_STATE_DIR: tempDir(t),
      PIPDU_HARDWARE: "sim",
      PIPDU_BROKER_PORT: String(brokerPort),
      PIPDU_BROKER_WS_PORT: "0",
      PIPDU_HTTP_PORT: String(httpPort),
      PIPDU_PDUDAEMON_PORT: "16421",
      PIPDU_GATEWAY_HOST: "127.0.0.1",
      PIPDU_PANEL_ENABLED: "false",
    });
    for (let i = 0; i < 400 && !child.output().includes("page:"); i++)
      await new Promise((r) => setTimeout(r, 50));
    await waitForPdu(`http://127.0.0.1:${httpPort}`, "pdu1", 16);
    const run = (args: string[]): Promise<{ code: number; out: string }> =>
      new Promise((resolve) => {
        execFile("python3", [pduclient ?? "", ...args], (err, stdout) =>
          resolve({ code: err ? Number(err.code) : 0, out: stdout }),
        );
      });
    t.deepEqual(
      await run([
        "--daemon",
        "127.0.0.1",
        "--hostname",
        "pdu1",
        "--port",
        "03",
        "--command",
        "reboot",
        "--delay",
        "1",
      ]),
      { code: 0, out: "Command sent successfully.\n" },
    );
    // -H needs python-requests; run it where that is installed.
    if (spawnSync("python3", ["-c", "import requests"]).status === 0) {
      t.deepEqual(
        await run([
          "-H",
          "--daemon",
          "127.0.0.1",
          "--hostname",
          "pdu1",
          "--port",
          "03",
          "--command",
          "reboot",
          "--delay",
          "1",
        ]),
        { code: 0, out: "Command sent successfully.\n" },
      );
      const http = await run([
        "-H",
        "--daemon",
        "127.0.0.1",
        "--hostname",
        "ghost",
        "--port",
        "3",
        "--command",
        "on",
      ]);
      t.deepEqual(http, { code: 127, out: "Error sending command! 127.0.0.1 replied: <Response [503]>\n" });
    }
    const refused = await run([
      "--daemon",
      "127.0.0.1",
      "--hostname",
      "ghost",
      "--port",
      "3",
      "--command",
      "on",
    ]);
    t.is(refused.code, 127);
    t.regex(refused.out, /^Error sending command! 127\.0\.0\.1 replied: nack: no PDU "ghost"/);
  },
);

// localcmdline: the port goes into cmd_on / cmd_off only as a checked whole number, so a hostile port value
// can never add shell syntax; the command's exit status decides success.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { commandFor, LocalCmdline } from "../../pdu-agent/drivers/localcmdline.ts";
import { driverOptions } from "../helpers/driver-options.ts";

function driver(options: Record<string, unknown>, timeoutMs?: number): LocalCmdline {
  return new LocalCmdline(driverOptions("local", { driver: "localcmdline", ...options }), timeoutMs);
}

test("%s, %d and %% are filled as Python's % operator does", (t) => {
  t.is(commandFor("relay %s on", 3), "relay 3 on");
  t.is(commandFor("usbrelay R%d=1 # 100%%", 12), "usbrelay R12=1 # 100%");
});

test("hostile port values are refused before any command is built", (t) => {
  for (const port of ["1; touch /tmp/x", "$(reboot)", "1`id`", "1 && rm -rf /", "-1", "1.5", "NaN"]) {
    t.throws(() => commandFor("echo %s", port as unknown as number), undefined, port);
  }
});

test("the command runs with the port and its exit status decides", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-local-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, "log");
  const d = driver({ cmd_on: `echo '%s on' >> ${log}`, cmd_off: "echo failing >&2; exit 3" });
  await d.switch(5, true);
  t.is(fs.readFileSync(log, "utf8"), "5 on\n");
  await t.throwsAsync(d.switch(5, false), { message: "cmd_off exited with 3: failing" });
});

test("a hostile port through the driver runs nothing", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-local-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const marker = path.join(dir, "pwned");
  const d = driver({ cmd_on: "echo %s" });
  await t.throwsAsync(d.switch(`1; touch ${marker}` as unknown as number, true));
  t.false(fs.existsSync(marker));
});

test("a command that outlives its timeout fails, and what it started is killed with it", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-local-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pidFile = path.join(dir, "pid");
  const d = driver({ cmd_on: `sleep 300 & echo $! > ${pidFile}; wait; echo %s` }, 300);
  await t.throwsAsync(d.switch(1, true), { message: "cmd_on timed out after 0.3 s" });
  const pid = Number(fs.readFileSync(pidFile, "utf8"));
  t.true(await gone(pid), `sleep ${pid} still runs`);
});

/** True once the process no longer runs (absent, or a zombie waiting for init). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, "utf8") : "";
    if (stat === "" || / Z /.test(stat)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

test("a command's flood of output is not kept: the error quotes the start of stderr", async (t) => {
  const d = driver({ cmd_off: "yes error-line | head -c 5000000 >&2; yes | head -c 5000000; exit 4" });
  await t.throwsAsync(d.switch(2, false), { message: "cmd_off exited with 4: error-line" });
});

test("a command does not inherit piPDU's settings from the environment (MQTT password, PDU communities)", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-local-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  process.env["PIPDU_MQTT_PASSWORD"] = "mqtt-s3cret";
  process.env["PIPDU_PDUDAEMON_PDUS"] = '{"apc":{"driver":"snmpv1","community":"c0mmunity"}}';
  t.teardown(() => {
    delete process.env["PIPDU_MQTT_PASSWORD"];
    delete process.env["PIPDU_PDUDAEMON_PDUS"];
  });
  const envFile = path.join(dir, "env");
  await driver({ cmd_on: `env > ${envFile}` }).switch(1, true);
  const env = fs.readFileSync(envFile, "utf8");
  t.regex(env, /^PATH=/m);
  t.notRegex(env, /PIPDU_|s3cret|c0mmunity/);
});

test("a command that leaves something running with its stderr open still ends at its own exit", async (t) => {
  const d = driver({
    cmd_on: "sleep 3 & echo done >&2; exit 0",
    cmd_off: "sleep 3 & echo refused >&2; exit 2",
  });
  await d.switch(1, true);
  await t.throwsAsync(d.switch(1, false), { message: "cmd_off exited with 2: refused" });
});

// localcmdline: the port goes into cmd_on / cmd_off only as a checked whole number, so a hostile port value
// can never add shell syntax; the command's exit status decides success.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { commandFor, LocalCmdline } from "../../pdu-agent/drivers/localcmdline.ts";
import { DriverOptions } from "../../pdu-agent/drivers/options.ts";

function driver(options: Record<string, unknown>): LocalCmdline {
  return new LocalCmdline(
    new DriverOptions({
      hostname: "local",
      pduId: "local",
      driver: "localcmdline",
      retries: 1,
      retryDelay: 0,
      options: { driver: "localcmdline", ...options },
    }),
  );
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

// PDUDaemon's `localcmdline`: `cmd_on` / `cmd_off` with `%s` for the port, run by /bin/sh as upstream does.
// The port is an outlet number checked to be a whole number before it is put into the command, so nothing
// a client sends can add shell syntax. A non-zero exit is a failure (upstream ignores it), so it is retried
// and reported. The device cannot be read: the state shown is the one piPDU last set.
import { spawn } from "node:child_process";
import type { DeviceIo } from "./driver-controller.ts";
import type { DriverOptions } from "./options.ts";

const TIMEOUT_MS = 30_000;
/** What is kept of a failing command's stderr for its error message. */
const STDERR_BYTES = 4096;
const STDERR_GRACE_MS = 500;

/** Python's `template % port` for the conversions PDUDaemon configs use: %s, %d, %i and %%. */
export function commandFor(template: string, outlet: number): string {
  if (typeof outlet !== "number" || !Number.isInteger(outlet) || outlet < 0 || outlet > 9999)
    throw new Error(`port ${JSON.stringify(String(outlet)).slice(0, 40)} is not a whole number`);
  return template.replace(/%([sdi%])/g, (_, c: string) => (c === "%" ? "%" : String(outlet)));
}

export class LocalCmdline implements DeviceIo {
  private readonly cmdOn: string | null;
  private readonly cmdOff: string | null;

  constructor(
    options: DriverOptions,
    private readonly timeoutMs = TIMEOUT_MS,
  ) {
    this.cmdOn = options.string("cmd_on");
    this.cmdOff = options.string("cmd_off");
    if (this.cmdOn === null && this.cmdOff === null) options.fail('needs "cmd_on" and/or "cmd_off"');
  }

  async switch(outlet: number, on: boolean): Promise<void> {
    const template = on ? this.cmdOn : this.cmdOff;
    if (template === null) throw new Error(`no ${on ? "cmd_on" : "cmd_off"} configured`);
    const what = on ? "cmd_on" : "cmd_off";
    const { code, timedOut, stderr } = await run(commandFor(template, outlet), this.timeoutMs);
    if (code === "0" && !timedOut) return;
    const why = timedOut ? `timed out after ${this.timeoutMs / 1000} s` : `exited with ${code}`;
    const detail = stderr.trim().split("\n")[0]?.slice(0, 200) ?? "";
    throw new Error(`${what} ${why}${detail ? `: ${detail}` : ""}`);
  }
}

/**
 * Runs a command in its own process group. At the timeout the whole group is killed: killing only the shell
 * would leave `sleep 600; relay on` running with our pipe open. The exit decides; stderr is kept up to a bound.
 */
function run(
  command: string,
  timeoutMs: number,
): Promise<{ code: string; timedOut: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], {
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: commandEnv(),
    });
    let stderr = "";
    let timedOut = false;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (stderr.length < STDERR_BYTES) stderr += chunk.slice(0, STDERR_BYTES - stderr.length);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    let grace: NodeJS.Timeout | undefined;
    const done = (code: string): void => {
      clearTimeout(timer);
      clearTimeout(grace);
      child.stderr.destroy();
      resolve({ code, timedOut, stderr });
    };
    child.on("error", (err) => done(err.message));
    // "close" comes once stderr is read to its end. Something the command left running in the background may
    // hold stderr open: after the exit, it is waited for briefly, not for as long as it runs.
    child.on("close", (code, signal) => done(code === null ? String(signal) : String(code)));
    child.on("exit", (code, signal) => {
      grace = setTimeout(() => done(code === null ? String(signal) : String(code)), STDERR_GRACE_MS);
    });
  });
}

/** The environment without piPDU's own settings, which hold the MQTT password, tokens and PDU communities. */
function commandEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("PIPDU_")));
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

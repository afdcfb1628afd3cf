// PDUDaemon's `localcmdline`: `cmd_on` / `cmd_off` with `%s` for the port, run by /bin/sh as upstream does.
// The port is an outlet number checked to be a whole number before it is put into the command, so nothing
// a client sends can add shell syntax. A non-zero exit is a failure (upstream ignores it), so it is retried
// and reported. The device cannot be read: the state shown is the one piPDU last set.
import { execFile } from "node:child_process";
import type { DeviceIo } from "./driver-controller.ts";
import type { DriverOptions } from "./options.ts";

const TIMEOUT_MS = 30_000;

/** Python's `template % port` for the conversions PDUDaemon configs use: %s, %d, %i and %%. */
export function commandFor(template: string, outlet: number): string {
  if (typeof outlet !== "number" || !Number.isInteger(outlet) || outlet < 0 || outlet > 9999)
    throw new Error(`port ${JSON.stringify(String(outlet)).slice(0, 40)} is not a whole number`);
  return template.replace(/%([sdi%])/g, (_, c: string) => (c === "%" ? "%" : String(outlet)));
}

export class LocalCmdline implements DeviceIo {
  private readonly cmdOn: string | null;
  private readonly cmdOff: string | null;

  constructor(options: DriverOptions) {
    this.cmdOn = options.string("cmd_on");
    this.cmdOff = options.string("cmd_off");
    if (this.cmdOn === null && this.cmdOff === null) options.fail('needs "cmd_on" and/or "cmd_off"');
  }

  async switch(outlet: number, on: boolean): Promise<void> {
    const template = on ? this.cmdOn : this.cmdOff;
    if (template === null) throw new Error(`no ${on ? "cmd_on" : "cmd_off"} configured`);
    const command = commandFor(template, outlet);
    await new Promise<void>((resolve, reject) => {
      execFile("/bin/sh", ["-c", command], { timeout: TIMEOUT_MS }, (err, _stdout, stderr) => {
        if (!err) {
          resolve();
          return;
        }
        const why = err.killed ? `timed out after ${TIMEOUT_MS / 1000} s` : `exited with ${String(err.code)}`;
        const detail = stderr.trim().split("\n")[0]?.slice(0, 200) ?? "";
        reject(new Error(`${on ? "cmd_on" : "cmd_off"} ${why}${detail ? `: ${detail}` : ""}`));
      });
    });
  }
}

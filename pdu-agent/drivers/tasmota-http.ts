// PDUDaemon's `tasmota` (and its fixed-size presets): `GET http://<ip or hostname>/cm?cmnd=Power<n> on|off`
// with optional `username` / `password`, as upstream. The answer must say the relay is in the asked state.
// State is read with `Status 11` (StatusSTS.POWER<n>), current with `Status 8` (StatusSNS.ENERGY.Current, a
// number or one per channel); where a device reports only watts, amperes are derived from the configured mains.
import type { DeviceIo } from "./driver-controller.ts";
import { field, finite, httpJson, onOff } from "./http-json.ts";
import type { DriverOptions } from "./options.ts";

export class TasmotaHttp implements DeviceIo {
  private readonly base: string;
  private readonly auth: Record<string, string>;

  constructor(
    options: DriverOptions,
    private readonly mains: { voltage: number; powerFactor: number },
  ) {
    this.base = `http://${options.string("ip", options.hostname)}/cm`;
    const user = options.string("username");
    const password = options.string("password");
    this.auth = user !== null && password !== null ? { user, password } : {};
  }

  async switch(outlet: number, on: boolean): Promise<void> {
    const answer = await this.command(`Power${outlet} ${on ? "on" : "off"}`);
    // A one-relay device answers POWER, a multi-relay one POWER<n>.
    const state = onOff(
      field(answer, `POWER${outlet}`) ?? (outlet === 1 ? field(answer, "POWER") : undefined),
    );
    if (state !== on) throw new Error(`Tasmota did not confirm POWER${outlet} ${on ? "ON" : "OFF"}`);
  }

  async read(): Promise<(boolean | null)[]> {
    const sts = field(await this.command("Status 11"), "StatusSTS");
    const states: (boolean | null)[] = [];
    for (let n = 1; n <= 16; n++)
      states.push(onOff(field(sts, `POWER${n}`) ?? (n === 1 ? field(sts, "POWER") : undefined)));
    return states;
  }

  async currents(): Promise<number[]> {
    const energy = field(field(await this.command("Status 8"), "StatusSNS"), "ENERGY");
    const list = (key: string): (number | null)[] => {
      const v = field(energy, key);
      return Array.isArray(v) ? v.map(finite) : [finite(v)];
    };
    const amps = list("Current");
    const watts = list("Power");
    const { voltage, powerFactor } = this.mains;
    return Array.from({ length: Math.max(amps.length, watts.length) }, (_, i) => {
      const w = watts[i] ?? null;
      return amps[i] ?? (w === null ? 0 : w / (voltage * powerFactor));
    });
  }

  private command(cmnd: string): Promise<unknown> {
    return httpJson(`${this.base}?${new URLSearchParams({ cmnd, ...this.auth }).toString()}`);
  }
}

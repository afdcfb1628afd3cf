// PDUDaemon's `shelly_gen2`: JSON-RPC at http://<hostname>/rpc, `Switch.Set` {id, on}, as upstream. Outlet n is
// switch id n − 1 (Shelly numbers its channels from 0). `Switch.GetStatus` reads each channel back with its
// `current` (or `apower` converted with the configured mains where a model has no current).
import type { DeviceIo } from "./driver-controller.ts";
import { field, finite, httpJson } from "./http-json.ts";
import type { DriverOptions } from "./options.ts";

export class ShellyGen2 implements DeviceIo {
  private readonly url: string;
  private nextId = 1;
  private last: { output: boolean | null; current: number }[] = [];

  constructor(
    options: DriverOptions,
    private readonly mains: { voltage: number; powerFactor: number },
    private readonly outletCount = options.integer("outlets", 1, 1, 16),
  ) {
    this.url = `http://${options.hostname}/rpc`;
  }

  async switch(outlet: number, on: boolean): Promise<void> {
    await this.rpc("Switch.Set", { id: outlet - 1, on });
  }

  async read(): Promise<(boolean | null)[]> {
    const { voltage, powerFactor } = this.mains;
    this.last = [];
    for (let id = 0; id < this.outletCount; id++) {
      const status = await this.rpc("Switch.GetStatus", { id });
      const output = field(status, "output");
      const amps = finite(field(status, "current"));
      const watts = finite(field(status, "apower"));
      this.last.push({
        output: typeof output === "boolean" ? output : null,
        current: amps ?? (watts === null ? 0 : watts / (voltage * powerFactor)),
      });
    }
    return this.last.map((s) => s.output);
  }

  /** From the status read with the states (the agent reads states, then currents, on every poll). */
  currents(): Promise<number[]> {
    return Promise.resolve(this.last.map((s) => s.current));
  }

  private async rpc(method: string, params: Record<string, unknown>): Promise<unknown> {
    const answer = await httpJson(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }),
    });
    const error = field(answer, "error");
    if (error !== undefined) {
      const message = field(error, "message");
      throw new Error(`${method}: ${typeof message === "string" ? message.slice(0, 200) : "error"}`);
    }
    return field(answer, "result");
  }
}

// PDUDaemon's `esphome-http`: ESPHome's web_server REST API, one switch per outlet from `switch_ids`:
// `POST /switch/<id>/turn_on|turn_off`, as upstream, and `GET /switch/<id>` → {"state":"ON","value":true}
// to read each back. `port` (default 80) is used where given.
import type { DeviceIo } from "./driver-controller.ts";
import { field, httpJson, onOff } from "./http-json.ts";
import type { DriverOptions } from "./options.ts";

export class EsphomeHttp implements DeviceIo {
  private readonly base: string;
  private readonly ids: string[];

  constructor(options: DriverOptions) {
    this.ids = options.stringList("switch_ids") ?? options.fail('"switch_ids" is required');
    if (options.has("username") || options.has("password"))
      options.fail(
        "web_server authentication (HTTP digest) is not supported; leave username and password out",
      );
    const port = options.integer("port", 80, 1, 65535);
    this.base = `http://${options.hostname}${port === 80 ? "" : `:${port}`}`;
  }

  async switch(outlet: number, on: boolean): Promise<void> {
    await httpJson(`${this.url(outlet)}/${on ? "turn_on" : "turn_off"}`, { method: "POST" });
  }

  async read(): Promise<(boolean | null)[]> {
    const states: (boolean | null)[] = [];
    for (let n = 1; n <= this.ids.length; n++) {
      const answer = await httpJson(this.url(n));
      states.push(onOff(field(answer, "value")) ?? onOff(field(answer, "state")));
    }
    return states;
  }

  private url(outlet: number): string {
    return `${this.base}/switch/${encodeURIComponent(this.ids[outlet - 1] ?? "")}`;
  }
}

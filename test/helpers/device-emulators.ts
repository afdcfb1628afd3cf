// HTTP emulators of network switches, written from their public API documentation, recording each request:
// Tasmota (https://tasmota.github.io/docs/Commands/: GET /cm?cmnd=…), Shelly Gen2 (https://shelly-api-docs.shelly.cloud/gen2/:
// POST /rpc, Switch.Set / Switch.GetStatus) and ESPHome's web_server (https://esphome.io/web-api/:
// POST /switch/<id>/turn_on|turn_off, GET /switch/<id>).
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ExecutionContext } from "ava";

export interface Emulator {
  host: string;
  /** "METHOD path" of each request, in order. */
  requests: string[];
  relays: boolean[];
}

async function serve(
  t: ExecutionContext,
  relays: boolean[],
  handle: (req: http.IncomingMessage, body: string, url: URL) => [number, unknown],
): Promise<Emulator> {
  const emulator: Emulator = { host: "", requests: [], relays };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://device");
      emulator.requests.push(`${req.method ?? ""} ${decodeURIComponent(url.pathname + url.search)}`);
      const [status, answer] = handle(req, body, url);
      res.writeHead(status, { "content-type": "application/json" });
      res.end(typeof answer === "string" ? answer : JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  emulator.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return emulator;
}

const onOff = (on: boolean | undefined): string => (on ? "ON" : "OFF");

/** A Tasmota device with `count` relays and an energy monitor reporting `amps` per channel. */
export function tasmota(
  t: ExecutionContext,
  count: number,
  amps: number[],
  password?: string,
): Promise<Emulator> {
  const relays = new Array<boolean>(count).fill(false);
  return serve(t, relays, (_req, _body, url) => {
    if (url.pathname !== "/cm") return [404, "not found"];
    if (password !== undefined && url.searchParams.get("password") !== password)
      return [401, { WARNING: "Need user=<username>&password=<password>" }];
    const cmnd = url.searchParams.get("cmnd") ?? "";
    const power = /^Power([0-9]*)\s*(on|off|1|0)?$/i.exec(cmnd);
    const key = (n: number): string => (count === 1 ? "POWER" : `POWER${n}`);
    if (power) {
      const n = power[1] === "" ? 1 : Number(power[1]);
      if (n < 1 || n > count) return [200, { Command: "Unknown" }];
      const arg = power[2]?.toLowerCase();
      if (arg !== undefined) relays[n - 1] = arg === "on" || arg === "1";
      return [200, { [key(n)]: onOff(relays[n - 1]) }];
    }
    if (cmnd === "Status 11")
      return [200, { StatusSTS: Object.fromEntries(relays.map((on, i) => [key(i + 1), onOff(on)])) }];
    if (cmnd === "Status 8") {
      const current = amps.map((a, i) => (relays[i] ? a : 0));
      return [200, { StatusSNS: { ENERGY: { Voltage: 230, Current: count === 1 ? current[0] : current } } }];
    }
    return [200, { Command: "Unknown" }];
  });
}

/** A Shelly Gen2 device (Plus 2PM-like) with `count` switch channels, ids from 0. */
export function shellyGen2(t: ExecutionContext, count: number, watts: number[]): Promise<Emulator> {
  const relays = new Array<boolean>(count).fill(false);
  return serve(t, relays, (req, body) => {
    if (req.method !== "POST") return [405, "POST only"];
    let call: { id?: unknown; method?: unknown; params?: { id?: unknown; on?: unknown } };
    try {
      call = JSON.parse(body) as typeof call;
    } catch {
      return [400, { id: null, error: { code: -32700, message: "parse error" } }];
    }
    const id = call.params?.id;
    if (typeof id !== "number" || id < 0 || id >= count)
      return [
        200,
        {
          id: call.id,
          src: "shellyplus2pm",
          error: { code: -105, message: `Argument 'id', value ${String(id)} not found!` },
        },
      ];
    if (call.method === "Switch.Set" && typeof call.params?.on === "boolean") {
      const was = relays[id];
      relays[id] = call.params.on;
      return [200, { id: call.id, src: "shellyplus2pm", result: { was_on: was } }];
    }
    if (call.method === "Switch.GetStatus") {
      const on = relays[id] ?? false;
      const apower = on ? (watts[id] ?? 0) : 0;
      return [
        200,
        {
          id: call.id,
          src: "shellyplus2pm",
          result: {
            id,
            source: "HTTP",
            output: on,
            apower,
            voltage: 230,
            current: apower / 230,
            aenergy: { total: 12.5 },
          },
        },
      ];
    }
    return [200, { id: call.id, error: { code: -114, message: "Method not found" } }];
  });
}

/** An ESPHome node with web_server and the given switch object ids. */
export function esphome(t: ExecutionContext, ids: string[]): Promise<Emulator> {
  const relays = new Array<boolean>(ids.length).fill(false);
  return serve(t, relays, (req, _body, url) => {
    const m = /^\/switch\/([^/]+)(?:\/(turn_on|turn_off|toggle))?$/.exec(url.pathname);
    const i = m ? ids.indexOf(decodeURIComponent(m[1] ?? "")) : -1;
    if (!m || i < 0) return [404, ""];
    if (m[2] !== undefined) {
      if (req.method !== "POST") return [405, ""];
      relays[i] = m[2] === "toggle" ? !relays[i] : m[2] === "turn_on";
      return [200, ""];
    }
    return [200, { id: `switch-${ids[i] ?? ""}`, value: relays[i], state: onOff(relays[i]) }];
  });
}

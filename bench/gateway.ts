// Gateway benchmark: requests per second and latency of PDUDaemon HTTP on/off for one PDU and spread over
// 16 PDUs, beside the bare MQTT command round trip (set → result, no gateway) measured in the same run on
// the same broker and agents. Broker (Mosquitto where installed, else the embedded one), 16 simulated PDUs
// (`pipdu sim`) and the gateway (`pipdu gateway`) each run as their own process.
// Alone: node --import tsx bench/gateway.ts   (BENCH_REQUESTS=n, default 1000 per row)
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import http from "node:http";
import mqtt, { type MqttClient } from "mqtt";
import { freePort, hasMosquitto, ROOT, waitForPort } from "../test/helpers/system.ts";

const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 1000);
const CONCURRENCY = 16;

interface Row {
  what: string;
  concurrency: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export async function runGatewayBenchmarks(): Promise<string> {
  const cleanups: (() => void)[] = [];
  const spawnIt = (cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess => {
    const child = spawn(cmd, args, {
      env: { ...process.env, PIPDU_LOG_LEVEL: "warn", ...env },
      stdio: "ignore",
    });
    cleanups.push(() => child.kill("SIGKILL"));
    return child;
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-bench-gw-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  try {
    const brokerPort = await freePort();
    let brokerKind: string;
    if (hasMosquitto) {
      const conf = path.join(dir, "mosquitto.conf");
      fs.writeFileSync(
        conf,
        `listener ${brokerPort} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n${process.getuid?.() === 0 ? "user root\n" : ""}`,
      );
      spawnIt("mosquitto", ["-c", conf]);
      brokerKind = "Mosquitto";
    } else {
      spawnIt(process.execPath, [path.join(ROOT, "bin/pipdu.js"), "broker"], {
        PIPDU_BROKER_PORT: String(brokerPort),
        PIPDU_BROKER_WS_PORT: "0",
        PIPDU_STATE_DIR: path.join(dir, "broker"),
      });
      brokerKind = "embedded broker";
    }
    await waitForPort(brokerPort);
    const url = `mqtt://127.0.0.1:${brokerPort}`;
    spawnIt(process.execPath, [path.join(ROOT, "bin/pipdu.js"), "sim", "--pdus", "16"], {
      PIPDU_MQTT_URL: url,
      PIPDU_STATE_DIR: path.join(dir, "fleet"),
      PIPDU_HARDWARE: "sim",
    });
    const [httpPort, pdPort] = [await freePort(), await freePort()];
    spawnIt(process.execPath, [path.join(ROOT, "bin/pipdu.js"), "gateway"], {
      PIPDU_MQTT_URL: url,
      PIPDU_HTTP_PORT: String(httpPort),
      PIPDU_PDUDAEMON_PORT: String(pdPort),
      PIPDU_GATEWAY_HOST: "127.0.0.1",
    });
    await waitForPort(pdPort, 30_000);
    const pdus = await waitForFleet(httpPort, 16);
    const one = pdus.slice(0, 1);

    const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true); // as the gateway's own client does
    cleanups.push(() => void client.endAsync(true));
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    cleanups.push(() => agent.destroy());
    const viaHttp = (pdu: string, outlet: number, command: string): Promise<void> =>
      pdudaemonGet(agent, pdPort, pdu, outlet, command);
    const viaMqtt = mqttCommander(client);
    await client.subscribeAsync(
      pdus.map((p) => `pipdu/${p}/result`),
      { qos: 1 },
    );

    // Warm-up, so JIT and connection set-up are not in the figures.
    await measure("warm-up", one, Math.min(200, REQUESTS), CONCURRENCY, viaHttp);
    await measure("warm-up", one, Math.min(200, REQUESTS), CONCURRENCY, viaMqtt);

    const rows: Row[] = [];
    for (const concurrency of [1, CONCURRENCY]) {
      rows.push(await measure("MQTT set → result (bare), 1 PDU", one, REQUESTS, concurrency, viaMqtt));
      rows.push(await measure("PDUDaemon HTTP on/off, 1 PDU", one, REQUESTS, concurrency, viaHttp));
      rows.push(await measure("MQTT set → result (bare), 16 PDUs", pdus, REQUESTS, concurrency, viaMqtt));
      rows.push(await measure("PDUDaemon HTTP on/off, 16 PDUs", pdus, REQUESTS, concurrency, viaHttp));
    }
    return [
      `### Gateway: PDUDaemon HTTP beside the bare MQTT round trip (${brokerKind}, ${REQUESTS} requests per row, simulated PDUs)`,
      "",
      "| path | in flight | requests/s | p50 ms | p99 ms |",
      "|---|---:|---:|---:|---:|",
      ...rows.map(
        (r) =>
          `| ${r.what} | ${r.concurrency} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
      ),
      "",
      "Each request alternates on and off of outlets 1–16 and is answered after the agent's result; with 16 PDUs the",
      "requests go round-robin over them. One PDU applies its commands one at a time (its queue), so extra requests",
      "in flight to one PDU add queueing, not throughput.",
    ].join("\n");
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
  }
}

export const run = runGatewayBenchmarks;

type Send = (pdu: string, outlet: number, command: string) => Promise<void>;

async function measure(
  what: string,
  pdus: string[],
  total: number,
  concurrency: number,
  send: Send,
): Promise<Row> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const pdu = pdus[i % pdus.length] ?? "";
      const outlet = (Math.floor(i / pdus.length) % 16) + 1;
      const command = Math.floor(i / (pdus.length * 16)) % 2 === 0 ? "on" : "off";
      const t0 = performance.now();
      await send(pdu, outlet, command);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { what, concurrency, perSecond: total / seconds, p50: at(0.5), p99: at(0.99) };
}

function pdudaemonGet(
  agent: http.Agent,
  port: number,
  pdu: string,
  outlet: number,
  command: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port, agent, path: `/power/control/${command}?hostname=${pdu}&port=${outlet}` },
      (res) => {
        res.resume();
        res.once("end", () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode ?? 0}`)),
        );
      },
    );
    req.once("error", reject);
  });
}

/** The bare round trip a gateway adds to: publish a JSON command with a transaction, wait for its result. */
function mqttCommander(client: MqttClient): Send {
  const waiting = new Map<string, (status: string) => void>();
  client.on("message", (_topic, payload) => {
    const result = JSON.parse(payload.toString()) as { transaction?: string; status: string };
    if (typeof result.transaction === "string") waiting.get(result.transaction)?.(result.status);
  });
  return (pdu, outlet, command) =>
    new Promise<void>((resolve, reject) => {
      const transaction = `bench-${randomBytes(6).toString("hex")}`;
      waiting.set(transaction, (status) => {
        waiting.delete(transaction);
        if (status === "ok") resolve();
        else reject(new Error(`command ${status}`));
      });
      client
        .publishAsync(
          `pipdu/${pdu}/outlet/${outlet}/set`,
          JSON.stringify({ state: command.toUpperCase(), transaction }),
          { qos: 1 },
        )
        .catch(reject);
    });
}

async function waitForFleet(port: number, size: number): Promise<string[]> {
  for (let i = 0; i < 600; i++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/pdus`);
      const pdus = (await response.json()) as { id: string; online: boolean; outlets: unknown[] }[];
      const ready = pdus.filter((p) => p.online && p.outlets.length === 16).map((p) => p.id);
      if (ready.length >= size) return ready.slice(0, size);
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the gateway never saw ${size} PDUs`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  console.log(await runGatewayBenchmarks());
  process.exit(0);
}

// Memory on the target: RSS after an idle minute of (a) the standalone stack, `node bin/pipdu.js start`
// as the README runs it (one node process: embedded broker, agent on the simulated PDU, panel, gateway), and
// (b) the Pi layout, one process per systemd unit in deploy/systemd (pipdu broker, pdu, gateway, panel),
// started the way the units start them (node directly). Both run at the same time, from the compiled build.
// Alone: node --import tsx bench/memory.ts   (BENCH_IDLE_SECONDS=60)
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, ROOT, waitForPort } from "../test/helpers/system.ts";

const IDLE_SECONDS = Number(process.env["BENCH_IDLE_SECONDS"] ?? 60);

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return Number(m?.[1] ?? 0) / 1024;
  } catch {
    return NaN;
  }
}

export async function runMemoryBenchmark(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-bench-mem-"));
  const children: ChildProcess[] = [];
  const pipdu = (args: string[], env: Record<string, string>): ChildProcess => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin/pipdu.js"), ...args], {
      env: { ...process.env, PIPDU_RUNTIME: "dist", PIPDU_LOG_LEVEL: "warn", NODE_ENV: "production", ...env },
      stdio: "ignore",
    });
    children.push(child);
    return child;
  };
  try {
    const [standalonePort, brokerPort, pdPort] = [await freePort(), await freePort(), await freePort()];
    const standalone = pipdu(["start"], {
      PIPDU_STATE_DIR: path.join(dir, "standalone"),
      PIPDU_HARDWARE: "sim",
      PIPDU_BROKER_PORT: String(standalonePort),
      PIPDU_BROKER_WS_PORT: "0",
      PIPDU_HTTP_PORT: "0",
      PIPDU_PDUDAEMON_PORT: "0",
      PIPDU_PANEL_PORT: "0",
    });
    const url = `mqtt://127.0.0.1:${brokerPort}`;
    const common = { PIPDU_STATE_DIR: path.join(dir, "pi"), PIPDU_MQTT_URL: url };
    const units: [string, ChildProcess][] = [
      [
        "pipdu-broker",
        pipdu(["broker"], { ...common, PIPDU_BROKER_PORT: String(brokerPort), PIPDU_BROKER_WS_PORT: "0" }),
      ],
    ];
    await waitForPort(brokerPort, 30_000);
    units.push(["pipdu-pdu", pipdu(["pdu"], { ...common, PIPDU_HARDWARE: "sim" })]);
    units.push([
      "pipdu-gateway",
      pipdu(["gateway"], { ...common, PIPDU_HTTP_PORT: "0", PIPDU_PDUDAEMON_PORT: String(pdPort) }),
    ]);
    units.push([
      "pipdu-panel",
      pipdu(["panel"], { ...common, PIPDU_PANEL_DRIVER: "sim", PIPDU_PANEL_PORT: "0" }),
    ]);
    await waitForPort(standalonePort, 30_000);
    await waitForPort(pdPort, 30_000);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const alone = rssMb(standalone.pid ?? 0);
    const layout = units.map(([name, child]) => [name, rssMb(child.pid ?? 0)] as const);
    const sum = layout.reduce((a, [, mb]) => a + mb, 0);
    return [
      `### Memory after ${IDLE_SECONDS} s idle (RSS, compiled build, node started directly)`,
      "",
      "| layout | process | RSS |",
      "|---|---|---:|",
      `| standalone (\`node bin/pipdu.js start\`) | one process: broker, agent, panel, gateway | ${alone.toFixed(1)} MB (goal ≤ 100 MB) |`,
      ...layout.map(([name, mb]) => `| Pi layout (one process per unit) | ${name} | ${mb.toFixed(1)} MB |`),
      `| Pi layout | all four | ${sum.toFixed(1)} MB |`,
    ].join("\n");
  } finally {
    for (const child of children) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  console.log(await runMemoryBenchmark());
  process.exit(0);
}

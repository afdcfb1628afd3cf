// No part of a running `pipdu start` blocks the event loop on the disk: once it is online, commands from
// MQTT and PDUDaemon HTTP, the web page, REST and metrics, power-on behaviour changes, energy saves and
// telemetry make no fs.*Sync call.
// scripts/sync-fs-guard.js (a preload) records every such call after the "started" mark, with its stack.
import test from "ava";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { connectClient, collectMessages } from "./helpers/mqtt-clients.ts";
import { eventually, freePort, ROOT, tempDir, waitForPort } from "./helpers/system.ts";

interface SyncCall {
  fn: string;
  target?: string;
  file: string;
  stack: string[];
}

test("a running standalone stack makes no synchronous file-system call while it switches outlets, saves energy and publishes telemetry", async (t) => {
  const stateDir = tempDir(t);
  const report = path.join(stateDir, "sync-fs-report.json");
  const [brokerPort, httpPort, pdudaemonPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    ["--import", path.join(ROOT, "scripts/sync-fs-guard.js"), path.join(ROOT, "bin/pipdu.js"), "start"],
    {
      env: {
        ...process.env,
        PIPDU_HARDWARE: "sim",
        PIPDU_STATE_DIR: stateDir,
        PIPDU_BROKER_HOST: "127.0.0.1",
        PIPDU_BROKER_PORT: String(brokerPort),
        PIPDU_BROKER_WS_PORT: "0",
        PIPDU_HTTP_PORT: String(httpPort),
        PIPDU_PDUDAEMON_PORT: String(pdudaemonPort),
        PIPDU_GATEWAY_HOST: "127.0.0.1",
        PIPDU_PANEL_PORT: "0",
        PIPDU_TELEMETRY_INTERVAL: "0.2",
        PIPDU_ENERGY_SAVE_INTERVAL: "1",
        PIPDU_LOG_LEVEL: "warn",
        PIPDU_SYNC_FS_REPORT: report,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  await waitForPort(brokerPort, 30_000);
  const client = await connectClient(t, `mqtt://127.0.0.1:${brokerPort}`);
  const seen = collectMessages(client);
  await client.subscribeAsync(["pipdu/+/availability", "pipdu/+/result", "pipdu/+/outlet/+/state"], {
    qos: 1,
  });
  await eventually("online", () => (seen.some((m) => m.payload === "online") ? true : undefined), 30_000);
  await waitForPort(pdudaemonPort, 30_000);

  child.kill("SIGUSR2"); // started: from here on every fs.*Sync call is a finding
  const results = (): number => seen.filter((m) => m.topic.endsWith("/result")).length;
  let expected = results();
  for (let i = 0; i < 12; i++) {
    const outlet = (i % 4) + 1;
    const state = i % 2 === 0 ? "ON" : "OFF";
    await client.publishAsync(`pipdu/pdu1/outlet/${outlet}/set`, state, { qos: 1 });
    expected++;
    await eventually(`result ${i}`, () => (results() >= expected ? true : undefined));
    const response = await fetch(
      `http://127.0.0.1:${pdudaemonPort}/power/control/${state === "ON" ? "off" : "on"}?hostname=pdu1&port=${outlet + 4}`,
    );
    t.is(response.status, 200, await response.text());
    expected++;
  }
  for (const page of ["/", "/api/pdus", "/metrics"]) {
    const response = await fetch(`http://127.0.0.1:${httpPort}${page}`);
    t.is(response.status, 200, page);
    await response.arrayBuffer();
  }
  await client.publishAsync("pipdu/pdu1/outlet/2/power_on_behavior/set", "on", { qos: 1 });
  await client.publishAsync("pipdu/pdu1/set", "ALL_OFF", { qos: 1 });
  await eventually("every command answered", () => (results() >= expected + 2 ? true : undefined));
  await new Promise((r) => setTimeout(r, 1500)); // an energy save and several telemetry rounds

  child.kill("SIGUSR2");
  const calls = await eventually("the report", () =>
    fs.existsSync(report)
      ? (JSON.parse(fs.readFileSync(report, "utf8")) as { calls: SyncCall[] }).calls
      : undefined,
  );
  // One finding per calling line: the function, the file it was called from, and one stack of it.
  const byCaller = new Map<string, { count: number; call: SyncCall }>();
  for (const call of calls) {
    const key = `${call.fn} ${call.stack[0] ?? ""}`;
    const entry = byCaller.get(key);
    if (entry) entry.count++;
    else byCaller.set(key, { count: 1, call });
  }
  const findings = [...byCaller.values()].map(
    ({ count, call }) =>
      `${path.relative(ROOT, call.file)}: ${call.fn}(${call.target ?? ""}) ×${count}\n      ${call.stack.slice(0, 6).join("\n      ")}`,
  );
  t.deepEqual(findings, [], `synchronous fs calls after start-up:\n${findings.join("\n")}\n${output}`);
});

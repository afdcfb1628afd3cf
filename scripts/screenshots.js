// Screenshots of the dashboard for the docs: `node scripts/screenshots.js` starts `pipdu start` on a simulated
// PDU with a rack's worth of loads in a temporary state directory, switches outlets for a while so the history
// has a shape (an ALL ON with its staggered steps, servers coming and going, a cycle, a delayed command), then
// captures docs/img/dashboard-desktop.png (1280×800) and docs/img/dashboard-phone.png (390×844) in Chromium.
// SCREENSHOT_SECONDS (default 150) sets how long the load runs; PIPDU_CHROMIUM the browser.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { ROOT } from "../bin/sources.js";

const SECONDS = Number(process.env.SCREENSHOT_SECONDS ?? 150);
const CHROMIUM = process.env.PIPDU_CHROMIUM ?? "/usr/bin/chromium";
const OUT = path.join(ROOT, "docs/img");

const outlets = [
  { name: "Core switch", protected: true, load: { watts: 38, noise: 2 } },
  { name: "Router", protected: true, load: { watts: 14, noise: 1 } },
  { name: "pve1", load: { watts: 185, noise: 35, inrush: 60 } },
  { name: "pve2", load: { watts: 160, noise: 30, inrush: 60 } },
  { name: "NAS", load: { watts: 62, noise: 6 } },
  { name: "Backup disk", load: { watts: 18, noise: 3 } },
  { name: "DUT bbb" }, // nothing plugged in: switched on, it shows the "no load" fault
  { name: "DUT imx8", load: { watts: 14, noise: 2 } },
  { name: "DUT x86", load: { watts: 45, noise: 12 } },
  { name: "KVM", load: { watts: 13, noise: 1 } },
  { name: "Fan tray", load: { watts: 24, noise: 1 } },
  { name: "Spare 12" },
  { name: "Spare 13" },
  { name: "Spare 14" },
  { name: "Spare 15" },
  { name: "Spare 16" },
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-screens-"));
  const [mqtt, http, pdudaemon, panel] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const child = spawn(process.execPath, [path.join(ROOT, "bin/pipdu.js"), "start"], {
    env: {
      ...process.env,
      PIPDU_STATE_DIR: state,
      PIPDU_PDU_NAME: "Rack 1",
      PIPDU_BROKER_PORT: String(mqtt),
      PIPDU_BROKER_WS_PORT: "0",
      PIPDU_BROKER_TLS_PORT: "0",
      PIPDU_MQTT_URL: `mqtt://127.0.0.1:${mqtt}`,
      PIPDU_HTTP_PORT: String(http),
      PIPDU_PDUDAEMON_PORT: String(pdudaemon),
      PIPDU_PANEL_PORT: String(panel),
      PIPDU_GATEWAY_HOST: "127.0.0.1",
      PIPDU_OUTLETS: JSON.stringify(outlets),
      PIPDU_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (const signal of ["SIGINT", "SIGTERM"])
    process.once(signal, () => {
      child.kill("SIGTERM");
      process.exit(1);
    });
  const base = `http://127.0.0.1:${http}`;
  const post = (url, body) =>
    fetch(`${base}${url}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.json());
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/api/pdus/pdu1`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 300) throw new Error("the gateway did not come up");
      await sleep(100);
    }
    console.log(`dashboard: ${base}/ — running the load for ${SECONDS} s`);
    await post("/api/pdus/pdu1/actions", { action: "all_on" });
    for (const n of [12, 13, 14, 15, 16]) await post(`/api/pdus/pdu1/outlets/${n}`, { action: "off" });
    const started = Date.now();
    const plan = [
      [0.25, () => post("/api/pdus/pdu1/outlets/4", { action: "off" })],
      [0.45, () => post("/api/pdus/pdu1/outlets/9", { action: "off" })],
      [0.55, () => post("/api/pdus/pdu1/outlets/4", { action: "on" })],
      [0.7, () => post("/api/pdus/pdu1/outlets/9", { action: "on" })],
      [0.8, () => post("/api/pdus/pdu1/outlets/6", { action: "off" })],
    ];
    for (const [at, step] of plan) {
      await sleep(Math.max(0, started + at * SECONDS * 1000 - Date.now()));
      await step();
    }
    await sleep(Math.max(0, started + SECONDS * 1000 - Date.now()));
    // Caught in the act: a DUT being power-cycled, and a delayed switch-off waiting its turn.
    // (Their answers come after the screenshots, or never once the PDU stops: not waited for.)
    post("/api/pdus/pdu1/outlets/8", { action: "cycle", delay: 60 }).catch(() => undefined);
    post("/api/pdus/pdu1/outlets/9", { action: "off", delay: 300 }).catch(() => undefined);
    await sleep(1500);

    fs.mkdirSync(OUT, { recursive: true });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-color-profile=srgb",
      ],
    });
    try {
      for (const [name, viewport] of [
        ["dashboard-desktop.png", { width: 1280, height: 800 }],
        ["dashboard-phone.png", { width: 390, height: 844 }],
      ]) {
        const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
        await page.goto(base);
        await page.locator('.ranges button[data-range="15m"]').click();
        await page.locator('.chart[data-range="15m"][data-drawn="true"]').waitFor();
        await page.locator('li.outlet[data-outlet="16"] .spark[data-points]').waitFor();
        await page.locator(".pending-list li").first().waitFor();
        await sleep(500);
        await page.screenshot({ path: path.join(OUT, name) });
        console.log(`wrote docs/img/${name}`);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  } finally {
    // Leave the outlets as they are: the state directory is thrown away with the simulated PDU.
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    fs.rmSync(state, { recursive: true, force: true });
  }
}

await main();

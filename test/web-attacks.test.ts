// No web page can switch an outlet: a page on another site, opened in a browser (headless Chromium) that can
// reach the gateway and the simulated panel, tries every request a page can make without their consent —
// an <img>, a HEAD, a text/plain form carrying JSON, no-cors fetches, framing, DNS rebinding — and nothing
// switches, nothing is read. Programs (no Origin) still switch, as pduclient, labgrid and curl do.
import http from "node:http";
import type { AddressInfo } from "node:net";
import test, { type ExecutionContext } from "ava";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, hasChromium, launchBrowser } from "./helpers/browser.ts";
import { silentLogger } from "../log/logger.ts";
import { PanelAgent } from "../panel-agent/agent.ts";
import { rawHttp, startGateway, waitForPdu } from "./gateway-harness.ts";
import { freePort, startAgent, startBroker, testSettings, type InProcessAgent } from "./helpers/system.ts";

if (!hasChromium && process.env["CI"] === "true")
  throw new Error(`no browser at ${CHROMIUM}: CI must run the web attack tests (apt-get install chromium)`);
// One browser at a time: each test launches its own Chromium, and a machine with two cores runs other tests too.
const browserTest = hasChromium ? test.serial : test.skip;

/** Outlets 1 (protected) and 3–8 on, so any switch-off shows. */
const ON = [1, 3, 4, 5, 6, 7, 8];

async function system(t: ExecutionContext) {
  const broker = await startBroker(t, "embedded");
  const settings = testSettings(t, {
    mqtt: { url: broker.url },
    outlets: [{ name: "Core switch", protected: true }],
    panel: { port: await freePort(), host: "127.0.0.1", driver: "sim", longPressMs: 300, shortPressMs: 200 },
  });
  const agent = await startAgent(t, settings);
  const gw = await startGateway(t, settings);
  await waitForPdu(gw.base, "pdu1", 16);
  for (const n of ON) {
    const response = await fetch(`${gw.base}/api/pdus/pdu1/outlets/${n}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"action":"on"}',
    });
    if (response.status !== 200) throw new Error(`outlet ${n} not switched on: ${await response.text()}`);
  }
  const panel = new PanelAgent({ settings, logger: silentLogger() });
  await panel.start();
  t.teardown(() => panel.stop());
  return { agent, gw, panel: `http://127.0.0.1:${settings.panel.port}` };
}

/** The other site: `localhost` on its own port, a different site from 127.0.0.1 for the browser. */
async function attackerSite(t: ExecutionContext, pages: Record<string, string>): Promise<string> {
  const server = http.createServer((req, res) => {
    const body = pages[req.url ?? ""] ?? "not found";
    res.writeHead(pages[req.url ?? ""] ? 200 : 404, { "content-type": "text/html" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://localhost:${(server.address() as AddressInfo).port}`;
}

function launch(t: ExecutionContext): Promise<Browser> {
  return launchBrowser(t, ["--host-resolver-rules=MAP rebind.test 127.0.0.1"]);
}

async function relays(agent: InProcessAgent): Promise<number[]> {
  const states = await agent.sim.controller.readRelays();
  return states.flatMap((on, i) => (on ? [i + 1] : []));
}

/** Open an attacker page and wait until its script says the request it made has been answered. */
async function attack(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction("window.done === true");
}

const DONE = "window.done = true";

interface Targets {
  pd: string;
  web: string;
  panel: string;
}

/** Each attack: the page that makes it, and the outlet it tries to switch off (all are on). */
const VECTORS: [name: string, outlet: number, page: (to: Targets) => string][] = [
  [
    "an <img> of PDUDaemon's GET /power/control/off",
    4,
    (to) => `<img src="${to.pd}/power/control/off?hostname=pdu1&port=4" onerror="${DONE}" onload="${DONE}">
      <img src="${to.web}/power/control/off?hostname=pdu1&port=4">`,
  ],
  [
    "a no-cors HEAD of /power/control/off",
    5,
    (
      to,
    ) => `<script>fetch("${to.pd}/power/control/off?hostname=pdu1&port=5", {method: "HEAD", mode: "no-cors"})
      .finally(() => { ${DONE} })</script>`,
  ],
  [
    'a text/plain form POST of {"action":"x=","action":"off","force":true} to a protected outlet',
    1,
    (
      to,
    ) => `<form id="f" method="POST" enctype="text/plain" target="sink" action="${to.web}/api/pdus/pdu1/outlets/1">
        <input name='{"action":"x' value='","action":"off","force":true}'></form>
      <iframe name="sink" id="sink"></iframe>
      <script>document.getElementById("sink").onload = () => { ${DONE} }; document.getElementById("f").submit();</script>`,
  ],
  [
    "a no-cors fetch POST to the REST API",
    6,
    (to) => `<script>fetch("${to.web}/api/pdus/pdu1/outlets/6", {method: "POST", mode: "no-cors",
      headers: {"content-type": "text/plain"}, body: '{"action":"off"}'}).finally(() => { ${DONE} })</script>`,
  ],
  [
    "a no-cors fetch POST to the simulated panel's press API",
    7,
    (to) => `<script>fetch("${to.panel}/api/buttons/7/press", {method: "POST", mode: "no-cors",
      body: '{"ms":600}'}).finally(() => { ${DONE} })</script>`,
  ],
];

for (const [name, outlet, html] of VECTORS) {
  browserTest(`a page on another site cannot switch outlet ${outlet} with ${name}`, async (t) => {
    const { agent, gw, panel } = await system(t);
    const site = await attackerSite(t, {
      "/attack": html({ pd: `http://127.0.0.1:${gw.pdudaemonPort}`, web: gw.base, panel }),
    });
    const browser = await launch(t);
    const page = await browser.newPage();
    await attack(page, `${site}/attack`);
    // A program's command after it, obeyed: by then anything the page caused (the panel sends its command
    // once the hold ends) has reached the agent's queue ahead of it.
    const press = await fetch(`${panel}/api/buttons/3/press`, { method: "POST", body: '{"ms":600}' });
    t.is(press.status, 200);
    await waitFor(async () => !(await relays(agent)).includes(3));
    t.deepEqual(
      await relays(agent),
      ON.filter((n) => n !== 3),
      `outlet ${outlet} is still on; only the program's press switched`,
    );
  });
}

test("programs send no Origin: PDUDaemon GET (pduclient -H, labgrid) and REST with JSON (curl) still switch", async (t) => {
  const { agent, gw } = await system(t);
  const plain = await fetch(`http://127.0.0.1:${gw.pdudaemonPort}/power/control/off?hostname=pdu1&port=4`);
  t.is(plain.status, 200);
  const rest = await fetch(`${gw.base}/api/pdus/pdu1/outlets/6`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"action":"off"}',
  });
  t.is(rest.status, 200);
  t.deepEqual(await relays(agent), [1, 3, 5, 7, 8]);
});

browserTest("a page on another site cannot frame the gateway or the panel page", async (t) => {
  const { gw, panel } = await system(t);
  const site = await attackerSite(t, {
    "/frame": `<iframe id="gw" src="${gw.base}/"></iframe><iframe id="panel" src="${panel}/"></iframe>`,
  });
  const browser = await launch(t);
  const page = await browser.newPage();
  const framed: string[] = [];
  page.on("response", (r) => {
    if (r.url().startsWith(gw.base) || r.url().startsWith(panel))
      framed.push(`${r.url()} ${r.headers()["x-frame-options"] ?? "-"}`);
  });
  await page.goto(`${site}/frame`);
  await page.waitForLoadState("load");
  const frames = page.frames().filter((f) => f !== page.mainFrame());
  t.is(frames.length, 2);
  for (const frame of frames) {
    t.false(frame.url().startsWith("http://127.0.0.1"), `the framed page did not load: ${frame.url()}`);
  }
  t.true(framed.length >= 2 && framed.every((line) => line.endsWith(" DENY")), framed.join("; "));
});

browserTest("DNS rebinding: a name the servers do not answer to reads nothing from them", async (t) => {
  const { gw, panel } = await system(t);
  const browser = await launch(t);
  const page = await browser.newPage();
  for (const [port, path] of [
    [new URL(gw.base).port, "/api/pdus"],
    [new URL(panel).port, "/api/panel"],
  ] as const) {
    const response = await page.goto(`http://rebind.test:${port}${path}`);
    t.is(response?.status(), 421, `rebind.test:${port}${path}`);
    t.notRegex((await response?.text()) ?? "", /pdu1|lcd/);
  }
  // The same paths by address work.
  t.is((await page.goto(`${gw.base}/api/pdus`))?.status(), 200);
});

test("programs may name the gateway by any host name (a lab FQDN in a LAVA dictionary); a browser may not", async (t) => {
  const { agent, gw } = await system(t);
  const request = (userAgent: string): string =>
    [
      "GET /power/control/off?hostname=pdu1&port=4 HTTP/1.1",
      `Host: pdu1.lab.example.com:${gw.pdudaemonPort}`,
      `User-Agent: ${userAgent}`,
      "Accept: */*",
      "Connection: close",
      "",
      "",
    ].join("\r\n");
  const browser = await rawHttp(gw.pdudaemonPort, request("Mozilla/5.0 (X11; Linux x86_64) Chrome/140"));
  t.regex(browser, /^HTTP\/1\.1 421 /);
  t.deepEqual(await relays(agent), ON);
  const program = await rawHttp(gw.pdudaemonPort, request("python-requests/2.32.3"));
  t.regex(program, /^HTTP\/1\.1 200 /);
  t.deepEqual(
    await relays(agent),
    ON.filter((n) => n !== 4),
  );
});

test("HEAD never switches, even from a program", async (t) => {
  const { agent, gw } = await system(t);
  const response = await fetch(
    `http://127.0.0.1:${gw.pdudaemonPort}/power/control/off?hostname=pdu1&port=5`,
    {
      method: "HEAD",
    },
  );
  t.is(response.status, 405);
  const after = await fetch(`http://127.0.0.1:${gw.pdudaemonPort}/power/control/off?hostname=pdu1&port=4`);
  t.is(after.status, 200, "a GET after it is obeyed");
  t.deepEqual(
    await relays(agent),
    ON.filter((n) => n !== 4),
  );
});

test("REST switching needs Content-Type application/json; a text/plain body is refused", async (t) => {
  const { agent, gw } = await system(t);
  const response = await fetch(`${gw.base}/api/pdus/pdu1/outlets/6`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: '{"action":"off"}',
  });
  t.is(response.status, 415);
  t.deepEqual(await relays(agent), ON);
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition never held");
}

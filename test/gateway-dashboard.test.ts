// The dashboard in a real browser (Debian chromium driven by playwright-core) against a real broker, a pdu-agent
// on a simulated PDU and the gateway: charts from the history API, pending actions, cycling, ALL OFF, and the
// connection state when the agent, the broker or the gateway goes away. Also the history and energy API.
import test, { type ExecutionContext } from "ava";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, hasChromium, launchBrowser } from "./helpers/browser.ts";
import { BROKERS, eventually, startAgent, startBroker, testSettings } from "./helpers/system.ts";
import { collectMessages, connectClient } from "./helpers/mqtt-clients.ts";
import { startGateway, waitForPdu } from "./gateway-harness.ts";
import { homeAssistantPlugins } from "../homeassistant/plugins.ts";

if (!hasChromium && process.env["CI"] === "true")
  throw new Error(`no browser at ${CHROMIUM}: CI must run the web page test (apt-get install chromium)`);
const kind = BROKERS.includes("mosquitto") ? "mosquitto" : "embedded";
const browserTest = hasChromium ? test : test.skip;

async function system(t: ExecutionContext) {
  const broker = await startBroker(t, kind);
  const settings = testSettings(t, {
    mqtt: { url: broker.url },
    outlets: [
      { name: "Core switch", protected: true },
      { name: "Router", load: { watts: 20, noise: 0, inrush: 0 } },
      { name: "Server", load: { watts: 200, noise: 0, inrush: 0 } },
    ],
    gateway: { timezone: "UTC" },
  });
  const agent = await startAgent(t, settings, homeAssistantPlugins());
  const gw = await startGateway(t, settings);
  await waitForPdu(gw.base, "pdu1", 16);
  return { broker, agent, gw, settings };
}

async function open(t: ExecutionContext, url: string, viewport = { width: 1280, height: 800 }) {
  const browser: Browser = await launchBrowser(t);
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  scriptErrors.set(page, errors);
  await page.goto(url);
  return page;
}

const scriptErrors = new WeakMap<Page, string[]>();
function noScriptErrors(t: ExecutionContext, page: Page): void {
  t.deepEqual(scriptErrors.get(page), [], "no script errors on the page");
}

function post(base: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

interface History {
  resolution: number;
  points: [number, number | null][];
}

async function historyOf(base: string, query: string): Promise<History> {
  return (await (await fetch(`${base}/api/pdus/pdu1/history?${query}`)).json()) as History;
}

/** The little of a canvas element these tests read (the test program has no DOM types). */
interface CanvasLike {
  width: number;
  height: number;
  getContext(
    kind: "2d",
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

interface ButtonLike {
  getAttribute(name: string): string | null;
  textContent: string | null;
  outerHTML: string;
}

/** Pixels of the chart's line colour on a canvas: proof that uPlot drew the series, not just the axes. */
function linePixels(page: Page, selector: string): Promise<number> {
  return page.locator(selector).evaluate((element) => {
    const canvas = element as unknown as CanvasLike;
    const ctx = canvas.getContext("2d");
    if (!ctx) return 0;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r = 0, g = 0, b = 0, a = 0] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 200 && Math.abs(r - 27) < 30 && Math.abs(g - 127) < 30 && Math.abs(b - 58) < 30) count++;
    }
    return count;
  });
}

test(`[${kind}] the history API answers JSON and CSV per outlet and in total, energy by day; bad queries are refused`, async (t) => {
  const { gw } = await system(t);
  t.is((await post(gw.base, "/api/pdus/pdu1/outlets/3", { action: "on" })).status, 200);
  const total = await eventually("three seconds of the server's load in the history", async () => {
    const h = await historyOf(gw.base, "outlet=total&range=15m");
    return h.points.filter((p) => (p[1] ?? 0) > 150).length >= 3 ? h : undefined;
  });
  t.is(total.resolution, 1);
  t.true(total.points.every(([time, watts]) => Number.isInteger(time) && (watts === null || watts >= 0)));
  t.true(total.points.every(([time], i) => i === 0 || time === (total.points[i - 1]?.[0] ?? 0) + 1));
  const byName = await historyOf(gw.base, "outlet=server&range=1h");
  t.is(byName.resolution, 60);
  t.true((byName.points.at(-1)?.[1] ?? 0) > 0);
  const amps = await historyOf(gw.base, "outlet=3&range=15m&metric=current");
  t.true((amps.points.at(-1)?.[1] ?? 0) > 0.5 && (amps.points.at(-1)?.[1] ?? 0) < 1.5);

  const csv = await fetch(`${gw.base}/api/pdus/pdu1/history?outlet=3&range=15m`, {
    headers: { accept: "text/csv" },
  });
  t.regex(csv.headers.get("content-type") ?? "", /^text\/csv/);
  const lines = (await csv.text()).trim().split("\n");
  t.is(lines[0], "time,unix_seconds,watts");
  t.regex(lines.at(-1) ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z,\d+,\d+(\.\d+)?$/);
  t.regex(
    await (await fetch(`${gw.base}/api/pdus/pdu1/history?format=csv`)).text(),
    /^time,unix_seconds,watts\n/,
  );

  const energy = (await (await fetch(`${gw.base}/api/pdus/pdu1/energy`)).json()) as {
    timezone: string;
    today: { date: string; total: number; outlets: { number: number; kwh: number }[] };
  };
  t.is(energy.timezone, "UTC");
  t.is(energy.today.date, new Date().toISOString().slice(0, 10));
  t.is(energy.today.outlets.length, 16);

  const refused: [string, number, RegExp][] = [
    ["/api/pdus/pdu1/history?range=forever", 400, /"range" must be a duration/],
    ["/api/pdus/pdu1/history?range=91d", 400, /at most 90d/],
    ["/api/pdus/pdu1/history?metric=volts", 400, /"metric" must be power or current/],
    ["/api/pdus/pdu1/history?resolution=7", 400, /"resolution" must be one of 1, 60, 3600/],
    ["/api/pdus/pdu1/history?outlet=99", 404, /no outlet 99/],
    ["/api/pdus/ghost/history", 404, /no PDU "ghost"/],
  ];
  for (const [path, status, message] of refused) {
    const r = await fetch(`${gw.base}${path}`);
    t.is(r.status, status, path);
    t.regex(((await r.json()) as { error: { message: string } }).error.message, message);
  }
  t.is((await post(gw.base, "/api/pdus/pdu1/actions", { action: "explode" })).status, 400);
  t.is((await post(gw.base, "/api/pdus/pdu1/actions", { action: "cancel", transaction: "x" })).status, 400);
  t.is((await fetch(`${gw.base}/api/pdus/pdu1/actions`)).status, 405);
  const icon = await fetch(`${gw.base}/favicon.ico`);
  t.is(icon.status, 200);
  t.is(icon.headers.get("content-type"), "image/svg+xml");
  t.regex(await (await fetch(`${gw.base}/vendor/uplot.js`)).text(), /uPlot/);
});

browserTest(
  `[${kind}] the large chart and the outlet's small chart are drawn from the history API`,
  async (t) => {
    const { gw } = await system(t);
    await post(gw.base, "/api/pdus/pdu1/outlets/3", { action: "on" });
    await eventually("the server's load in the history", async () => {
      const h = await historyOf(gw.base, "outlet=total&range=15m");
      return h.points.filter((p) => (p[1] ?? 0) > 150).length >= 3 ? true : undefined;
    });
    const browser = await open(t, "about:blank");
    const answer = browser.waitForResponse((r) => /\/history\?outlet=total&range=15m$/.test(r.url()));
    await browser.goto(gw.base);
    t.true(await browser.locator("#token-form").isHidden(), "no token needed, no token form");
    await browser.locator('.ranges button[data-range="15m"]').click();
    const served = (await (await answer).json()) as History;
    const chart = browser.locator('.chart[data-range="15m"][data-series="total"][data-drawn="true"]');
    await chart.waitFor();
    t.is(await chart.getAttribute("data-points"), String(served.points.length));
    t.true(served.points.length >= 3);
    t.true((await linePixels(browser, ".chart canvas")) > 20, "the power line is on the canvas");
    t.regex((await chart.getAttribute("aria-label")) ?? "", /Power of Total over 15m, one point per 1 s/);

    // The outlet's small chart, clicked, becomes the large chart's series.
    const spark = browser.locator('li.outlet[data-outlet="3"] .spark');
    await browser.locator('li.outlet[data-outlet="3"] .spark[data-points]').waitFor();
    t.true((await linePixels(browser, 'li.outlet[data-outlet="3"] .spark canvas')) > 5);
    await spark.click();
    await browser.locator('.chart[data-series="3"][data-drawn="true"]').waitFor();
    t.is(await browser.locator(".chart-series").inputValue(), "3");
    t.regex((await browser.locator(".csv").getAttribute("href")) ?? "", /outlet=3&range=15m&format=csv/);
    t.regex(
      (await browser.locator(".series-energy").textContent()) ?? "",
      /^outlet 3 Server: today \d+\.\d{3} kWh · yesterday 0\.000 kWh · this month \d+\.\d{3} kWh \(UTC\)$/,
    );

    // Keyboard: a range is chosen with Tab and Enter; every button says what it does.
    await browser.locator('.ranges button[data-range="1h"]').focus();
    await browser.keyboard.press("Tab");
    await browser.keyboard.press("Enter");
    await browser.locator('.chart[data-range="6h"][data-series="3"][data-drawn="true"]').waitFor();
    t.is(await browser.locator('.ranges button[aria-pressed="true"]').textContent(), "6 h");
    const unnamed = await browser
      .locator("button")
      .evaluateAll((elements) =>
        (elements as unknown as ButtonLike[])
          .filter((b) => !(b.getAttribute("aria-label") ?? b.textContent ?? "").trim())
          .map((b) => b.outerHTML.slice(0, 80)),
      );
    t.deepEqual(unnamed, []);
    noScriptErrors(t, browser);
  },
);

browserTest(
  `[${kind}] a delayed command is listed with a countdown and cancelled from the page`,
  async (t) => {
    const { gw, agent } = await system(t);
    const page = await open(t, gw.base);
    await page.locator('li.outlet[data-outlet="2"]').waitFor();
    const reply = post(gw.base, "/api/pdus/pdu1/outlets/2", { action: "on", delay: 600 });
    const item = page.locator(".pending-list li", { hasText: "outlet 2 Router: on" });
    await item.waitFor();
    t.regex((await item.locator(".countdown").textContent()) ?? "", /^in (9|10) min \d+ s$/);
    t.regex((await page.locator('li.outlet[data-outlet="2"] .pending-note').textContent()) ?? "", /^on in/);
    await item.getByRole("button", { name: "Cancel outlet 2 Router: on" }).click();
    await page.locator(".pending").waitFor({ state: "hidden" });
    const answer = (await (await reply).json()) as { error: { code: string } };
    t.is(answer.error.code, "cancelled");
    t.false((await agent.sim.controller.readRelays())[1]);
    t.is(await page.locator('li.outlet[data-outlet="2"]').getAttribute("data-state"), "OFF");
    noScriptErrors(t, page);
  },
);

browserTest(`[${kind}] a running cycle shows CYCLING, and cancelling it leaves the outlet off`, async (t) => {
  const { gw, agent } = await system(t);
  await post(gw.base, "/api/pdus/pdu1/outlets/3", { action: "on" });
  const page = await open(t, gw.base, { width: 390, height: 844 });
  const card = page.locator('li.outlet[data-outlet="3"]');
  await page.locator('li.outlet[data-outlet="3"][data-state="ON"]').waitFor();
  const reply = post(gw.base, "/api/pdus/pdu1/outlets/3", { action: "cycle", delay: 600 });
  await page.locator('li.outlet[data-outlet="3"][data-cycling="true"]').waitFor();
  t.is(await card.locator(".state").textContent(), "CYCLING");
  t.regex((await card.locator(".pending-note").textContent()) ?? "", /^back on in \d+ min/);
  t.true(await card.locator("button.toggle").isHidden(), "no Turn on while the cycle runs");
  await card.getByRole("button", { name: "Cancel what is pending on outlet 3 Server" }).click();
  await page.locator('li.outlet[data-outlet="3"][data-cycling="false"][data-state="OFF"]').waitFor();
  t.is(await card.locator(".state").textContent(), "OFF");
  t.like(await (await reply).json(), { error: { code: "cancelled" } });
  t.false((await agent.sim.controller.readRelays())[2]);
  noScriptErrors(t, page);
});

browserTest(
  `[${kind}] ALL OFF asks first; keeping sends nothing, confirming switches off all but protected outlets`,
  async (t) => {
    const { gw, agent, broker } = await system(t);
    for (const n of [1, 2, 3]) await post(gw.base, `/api/pdus/pdu1/outlets/${n}`, { action: "on" });
    const watcher = await connectClient(t, broker.url);
    await watcher.subscribeAsync("pipdu/pdu1/set");
    const commands = collectMessages(watcher);
    const page = await open(t, gw.base);
    await page.locator('li.outlet[data-outlet="3"][data-state="ON"]').waitFor();

    await page.getByRole("button", { name: "All off" }).click();
    const dialog = page.getByRole("dialog", { name: "Switch all outlets of piPDU off?" });
    await dialog.waitFor();
    t.is(
      await dialog.locator("#confirm-text").textContent(),
      "2 outlets of piPDU will be switched off at once. Protected outlets stay on: Core switch.",
    );
    await dialog.getByRole("button", { name: "Keep as is" }).click();
    await dialog.waitFor({ state: "hidden" });

    await page.getByRole("button", { name: "All off" }).click();
    await dialog.getByRole("button", { name: "Switch all off" }).click();
    await page.locator("#toast", { hasText: "piPDU: all off done" }).waitFor();
    await page.locator('li.outlet[data-outlet="3"][data-state="OFF"]').waitFor();
    t.deepEqual((await agent.sim.controller.readRelays()).slice(0, 3), [true, false, false]);
    await eventually("the command on the bus", () => (commands.length > 0 ? true : undefined));
    t.is(commands.length, 1, "one PDU-wide command: the kept dialog sent nothing");
    t.like(JSON.parse(commands[0]?.payload ?? "{}"), { action: "all_off" });
    noScriptErrors(t, page);
  },
);

browserTest(
  `[${kind}] ALL ON asks first, then lists its staggered steps, one of which is cancelled`,
  async (t) => {
    const { gw, agent } = await system(t);
    const page = await open(t, gw.base, { width: 390, height: 844 });
    await page.locator('li.outlet[data-outlet="16"][data-state="OFF"]').waitFor();
    await page.getByRole("button", { name: "All on" }).click();
    const dialog = page.getByRole("dialog", { name: "Switch all outlets of piPDU on?" });
    await dialog.waitFor();
    t.regex(
      (await dialog.locator("#confirm-text").textContent()) ?? "",
      /^16 outlets of piPDU will be switched on one after another/,
    );
    await dialog.getByRole("button", { name: "Switch all on" }).click();
    const last = page.locator(".pending-list li", { hasText: "outlet 16 Outlet 16: on" });
    await last.waitFor();
    await last.getByRole("button").click();
    await page.locator("#toast", { hasText: "piPDU: all on done; cancelled: 16" }).waitFor();
    await page.locator(".pending").waitFor({ state: "hidden" });
    const relays = await agent.sim.controller.readRelays();
    t.deepEqual(relays.slice(0, 16), [...new Array<boolean>(15).fill(true), false]);
    noScriptErrors(t, page);
  },
);

browserTest(
  `[${kind}] nothing stays green when the agent stops, when the gateway loses the broker, or when the gateway is gone`,
  async (t) => {
    const { gw, agent, broker } = await system(t);
    const page = await open(t, gw.base);
    const section = page.locator('section.pdu[data-pdu="pdu1"]');
    await page.locator('section.pdu[data-availability="online"]').waitFor();
    t.is(await page.locator("#link").getAttribute("data-state"), "live");

    await agent.stop();
    await page.locator('section.pdu[data-availability="offline"]').waitFor();
    t.is(await section.locator(".availability").textContent(), "offline");
    t.true(await section.locator("button.toggle").first().isDisabled());
    t.true(await page.getByRole("button", { name: "All off" }).isDisabled());
    t.is(await page.locator(".badge.online, .badge.on").count(), 0);

    await broker.stop();
    await page.locator('#link[data-state="no-broker"]').waitFor();
    t.is(await page.locator("#link").textContent(), "gateway lost the MQTT broker – values are stale");
    t.is(await section.getAttribute("data-availability"), "unknown");

    await gw.gateway.stop();
    await page.locator('#link[data-state="unreachable"]').waitFor();
    t.is(await page.locator("#link").textContent(), "gateway unreachable – retrying");
    t.is(await page.locator(".badge.online, .badge.on, .pill[data-state='live']").count(), 0);
    noScriptErrors(t, page);
  },
);

browserTest(
  `[${kind}] a second PDU gets its own page, and a PDU whose agent falls silent is not shown as online`,
  async (t) => {
    const { gw, broker } = await system(t);
    // A second PDU spoken for by a client of the test: announced, heard for a while, then silent (a hung agent
    // whose connection the broker still holds, so no last will is published).
    const ghost = await announceRack2(t, broker.url);
    const page = await open(t, gw.base);
    await page
      .getByRole("navigation", { name: "PDUs" })
      .getByRole("link", { name: "Rack 2 (rack2)" })
      .click();
    const rack2 = page.locator('section.pdu[data-pdu="rack2"]');
    for (let i = 0; i < 3; i++) await ghost.publishAsync("pipdu/rack2/telemetry", "{}", { qos: 0 });
    await page.locator('section.pdu[data-pdu="rack2"][data-availability="online"]').waitFor();
    t.true(await page.locator('section.pdu[data-pdu="pdu1"]').isHidden());
    t.is(await page.locator('#pdu-nav a[aria-current="page"]').textContent(), "Rack 2 (rack2)");
    await page.locator('section.pdu[data-pdu="rack2"][data-availability="stale"]').waitFor();
    t.is(await rack2.locator(".availability").textContent(), "not responding");
    t.true(await rack2.locator("button.toggle").isDisabled());
    await ghost.publishAsync("pipdu/rack2/telemetry", "{}", { qos: 0 });
    await page.locator('section.pdu[data-pdu="rack2"][data-availability="online"]').waitFor();
    noScriptErrors(t, page);
  },
);

/** A second PDU spoken for by a client of the test (retained info, state and availability, as an agent does). */
async function announceRack2(t: ExecutionContext, url: string) {
  const ghost = await connectClient(t, url);
  const info = {
    pdu: "rack2",
    name: "Rack 2",
    outlets: [{ number: 1, name: "NAS", protected: false }],
    firmware: { version: "test", hardware: "test" },
    agent: { version: "test" },
    mains: { voltage: 230, voltageSource: "configured", powerFactor: 1, frequency: 50 },
    limits: { maxDelay: 3600, defaultCycleDelay: 5, maxPayloadBytes: 1024, maxCurrent: 16 },
  };
  await ghost.publishAsync("pipdu/rack2/info", JSON.stringify(info), { retain: true, qos: 1 });
  await ghost.publishAsync("pipdu/rack2/outlet/1/state", "ON", { retain: true, qos: 1 });
  await ghost.publishAsync("pipdu/rack2/availability", "online", { retain: true, qos: 1 });
  return ghost;
}

browserTest(
  `[${kind}] the overload alarm is a banner with its figures, a fault a badge on its outlet; bad payloads change nothing`,
  async (t) => {
    const { gw, broker } = await system(t);
    const ghost = await announceRack2(t, broker.url);
    const page = await open(t, `${gw.base}/#rack2`);
    const rack2 = page.locator('section.pdu[data-pdu="rack2"]');
    await rack2.locator('li.outlet[data-outlet="1"][data-state="ON"]').waitFor();
    const since = Date.UTC(2026, 10, 23, 12, 3, 4);
    await ghost.publishAsync(
      "pipdu/rack2/alarm",
      JSON.stringify({ active: true, current: 17.2, limit: 16, since, outlets: [], shed: [1] }),
      { retain: true, qos: 1 },
    );
    await ghost.publishAsync("pipdu/rack2/outlet/1/fault", "dead_load", { retain: true, qos: 1 });
    const banner = page.getByRole("alert");
    await banner.waitFor();
    t.is(
      await banner.locator(".alarm-text").textContent(),
      `17.20 A drawn, limit 16.0 A · since ${await page.evaluate((ms) => new Date(ms).toLocaleTimeString(), since)} · switched off to shed load: outlet 1 NAS`,
    );
    const fault = rack2.locator('li.outlet[data-outlet="1"] .fault');
    await fault.waitFor();
    t.is(await fault.textContent(), "no load");
    t.is(await fault.getAttribute("title"), "Switched on but draws no current");

    // Garbage on the same topics is ignored: the page keeps what it had. (One client's messages arrive in
    // order, so once the state that follows them is shown, they have been handled.)
    await ghost.publishAsync("pipdu/rack2/pending", "{not json", { qos: 1 });
    await ghost.publishAsync("pipdu/rack2/outlet/1/fault", "on_fire", { qos: 1 });
    await ghost.publishAsync("pipdu/rack2/alarm", '{"active":"very"}', { qos: 1 });
    await ghost.publishAsync("pipdu/rack2/outlet/1/state", "OFF", { retain: true, qos: 1 });
    await rack2.locator('li.outlet[data-outlet="1"][data-state="OFF"]').waitFor();
    t.is(await fault.textContent(), "no load");
    t.true(await banner.isVisible());
    t.true(await rack2.locator(".pending").isHidden());

    await ghost.publishAsync("pipdu/rack2/alarm", JSON.stringify({ active: false }), {
      retain: true,
      qos: 1,
    });
    await ghost.publishAsync("pipdu/rack2/outlet/1/fault", "none", { retain: true, qos: 1 });
    await banner.waitFor({ state: "hidden" });
    await fault.waitFor({ state: "hidden" });
    noScriptErrors(t, page);
  },
);

browserTest(`[${kind}] the token form is shown only when the gateway needs a token`, async (t) => {
  const broker = await startBroker(t, kind);
  const settings = testSettings(t, { mqtt: { url: broker.url }, gateway: { token: "s3cret" } });
  const gw = await startGateway(t, settings);
  const page = await open(t, gw.base, { width: 390, height: 844 });
  await page.locator("#token-form").waitFor();
  t.true(await page.getByLabel("Token to switch outlets").isVisible());
  noScriptErrors(t, page);
});

// The web page in a real browser (Debian chromium driven by playwright-core), the REST API and /metrics,
// against a real broker and a pdu-agent on a simulated PDU.
import test, { type ExecutionContext } from "ava";
import type { Browser } from "playwright-core";
import { CHROMIUM, hasChromium, launchBrowser } from "./helpers/browser.ts";
import {
  BROKERS,
  eventually,
  mosquittoPub,
  startAgent,
  startBroker,
  testSettings,
} from "./helpers/system.ts";
import { startGateway, waitForPdu } from "./gateway-harness.ts";
import { homeAssistantPlugins } from "../homeassistant/plugins.ts";

if (!hasChromium && process.env["CI"] === "true")
  throw new Error(`no browser at ${CHROMIUM}: CI must run the web page test (apt-get install chromium)`);
const kind = BROKERS.includes("mosquitto") ? "mosquitto" : "embedded";

async function system(t: ExecutionContext) {
  const broker = await startBroker(t, kind);
  const settings = testSettings(t, {
    mqtt: { url: broker.url },
    outlets: [
      { name: "Core switch", protected: true },
      { name: "Router" },
      { name: "Server", load: { watts: 200, noise: 0, inrush: 0 } },
    ],
  });
  // As `pipdu pdu` runs it: with the plugins that publish totals and diagnostics (link counters).
  const agent = await startAgent(t, settings, homeAssistantPlugins());
  const gw = await startGateway(t, settings);
  await waitForPdu(gw.base, "pdu1", 16);
  return { broker, agent, gw };
}

function launch(t: ExecutionContext): Promise<Browser> {
  return launchBrowser(t);
}

(hasChromium ? test : test.skip)(
  `[${kind}] the page shows live power when mosquitto_pub switches an outlet, and its toggle round-trips`,
  async (t) => {
    const { broker, agent, gw } = await system(t);
    const browser = await launch(t);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } }); // a phone
    await page.goto(gw.base);
    const server = page.locator('li.outlet[data-pdu="pdu1"][data-outlet="3"]');
    await server.locator(".name", { hasText: "Server" }).waitFor();
    t.is(await server.getAttribute("data-state"), "OFF");
    t.is(await server.locator(".power").textContent(), "0.0");

    // Switched from outside the page: the state and the power update live.
    await mosquittoPub(broker.port, "pipdu/pdu1/outlet/3/set", "ON");
    await page.locator('li.outlet[data-pdu="pdu1"][data-outlet="3"][data-state="ON"]').waitFor();
    for (let i = 0; i < 200 && !(Number(await server.locator(".power").textContent()) > 100); i++)
      await new Promise((r) => setTimeout(r, 25));
    t.true(Number(await server.locator(".power").textContent()) > 100);
    t.true(Number(await page.locator(".total-power").textContent()) > 100);

    // The toggle: a click switches the relay through the agent and the page shows the new state.
    const router = page.locator('li.outlet[data-outlet="2"]');
    await router.locator("button.toggle", { hasText: "Turn on" }).click();
    await router.locator("button.toggle", { hasText: "Turn off" }).waitFor();
    t.is(await router.getAttribute("data-state"), "ON");
    t.true((await agent.sim.controller.readRelays())[1]);
    await router.locator("button.toggle").click();
    await page.locator('li.outlet[data-outlet="2"][data-state="OFF"]').waitFor();
    t.false((await agent.sim.controller.readRelays())[1]);

    // A protected outlet asks first: dismissing switches nothing, accepting cycles it.
    const core = page.locator('li.outlet[data-outlet="1"]');
    await core.locator("button.toggle").click(); // on: no question
    await page.locator('li.outlet[data-outlet="1"][data-state="ON"]').waitFor();
    const questions: string[] = [];
    page.once("dialog", (d) => void (questions.push(d.message()), d.dismiss()));
    await core.locator("button.toggle").click();
    // Anything the page had sent would be queued before this next command, so the check below is not a race.
    await router.locator("button.toggle", { hasText: "Turn on" }).click();
    await page.locator('li.outlet[data-outlet="2"][data-state="ON"]').waitFor();
    t.true((await agent.sim.controller.readRelays())[0]);
    page.once("dialog", (d) => void (questions.push(d.message()), d.accept()));
    await core.locator("button.cycle").click();
    await page.locator("#toast", { hasText: "Core switch: cycle done, now ON" }).waitFor();
    t.deepEqual(questions, [
      'Switch off protected outlet 1 "Core switch" on pdu1?',
      'Power-cycle protected outlet 1 "Core switch" on pdu1?',
    ]);
    t.true((await agent.sim.controller.readRelays())[0]);
  },
);

test(`[${kind}] REST API lists PDUs with live readings and switches with the agent's result`, async (t) => {
  const { agent, gw } = await system(t);
  const pdus = (await (await fetch(`${gw.base}/api/pdus`)).json()) as {
    id: string;
    outlets: { number: number; name: string }[];
    totals: object;
  }[];
  t.is(pdus.length, 1);
  t.like(pdus[0], { id: "pdu1", online: true });
  t.is(pdus[0]?.outlets.length, 16);
  t.like(pdus[0]?.outlets[2], { number: 3, name: "Server", protected: false, state: "OFF" });

  const post = (outlet: string, body: string) =>
    fetch(`${gw.base}/api/pdus/pdu1/outlets/${outlet}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  let response = await post("server", '{"action":"on"}');
  t.is(response.status, 200);
  t.deepEqual(await response.json(), {
    status: "ok",
    code: "ok",
    message: "outlet 3 on: ON",
    pdu: "pdu1",
    outlet: 3,
    action: "on",
    state: "ON",
  });
  response = await post("3", '{"action":"cycle","delay":0}');
  t.like(await response.json(), { status: "ok", action: "cycle", state: "ON" });
  response = await post("1", '{"action":"off"}');
  t.is(response.status, 409);
  t.like(await response.json(), { status: "error", code: "refused", error: { code: "protected_outlet" } });
  t.is((await post("1", '{"action":"off","force":true}')).status, 200);

  const bad: [string, string, number, RegExp][] = [
    ["3", "not json", 400, /body must be JSON/],
    ["3", '{"action":"explode"}', 400, /"action" must be one of on, off, toggle, cycle/],
    ["3", '{"action":"on","delay":-1}', 400, /"delay" must be a number of seconds, 0 or more/],
    ["3", '{"action":"on","colour":"red"}', 400, /unknown field "colour"/],
    ["3", "[1,2]", 400, /body must be a JSON object/],
    ["99", '{"action":"on"}', 404, /no outlet 99/],
    ["3", `{"action":"on","pad":"${"x".repeat(5000)}"}`, 413, /at most 4096/],
  ];
  const before = await agent.sim.controller.readRelays();
  for (const [outlet, body, status, message] of bad) {
    const r = await post(outlet, body);
    t.is(r.status, status, body.slice(0, 30));
    t.regex(((await r.json()) as { error: { message: string } }).error.message, message);
  }
  t.is((await fetch(`${gw.base}/api/pdus/ghost`)).status, 404);
  t.is((await fetch(`${gw.base}/api/nothing`)).status, 404);
  t.is((await fetch(`${gw.base}/api/pdus`, { method: "DELETE" })).status, 405);
  t.deepEqual(await agent.sim.controller.readRelays(), before);
  const spec = await fetch(`${gw.base}/api/openapi.yaml`);
  t.is(spec.status, 200);
  t.regex(await spec.text(), /^openapi: 3\./);
});

test(`[${kind}] /metrics is Prometheus text with every outlet labelled by PDU, number and name`, async (t) => {
  const { gw } = await system(t);
  await fetch(`${gw.base}/power/control/on?hostname=pdu1&port=3`);
  const response = await fetch(`${gw.base}/metrics`);
  t.is(response.status, 200);
  t.regex(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const samples = parsePrometheus(await response.text());
  for (const metric of [
    "pipdu_outlet_power_watts",
    "pipdu_outlet_current_amperes",
    "pipdu_outlet_energy_kwh_total",
    "pipdu_outlet_state",
  ]) {
    const rows = samples.filter((s) => s.name === metric);
    t.is(rows.length, 16, metric);
    t.deepEqual(
      rows.map((r) => r.labels["outlet"]).sort((a, b) => Number(a) - Number(b)),
      Array.from({ length: 16 }, (_, i) => String(i + 1)),
    );
    t.true(rows.every((r) => r.labels["pdu"] === "pdu1" && typeof r.labels["name"] === "string"));
  }
  const state = samples.find((s) => s.name === "pipdu_outlet_state" && s.labels["outlet"] === "3");
  t.deepEqual(state, {
    name: "pipdu_outlet_state",
    labels: { pdu: "pdu1", outlet: "3", name: "Server" },
    value: 1,
  });
  t.like(
    samples.find((s) => s.name === "pipdu_pdu_available"),
    { labels: { pdu: "pdu1", name: "piPDU" }, value: 1 },
  );
  t.like(
    samples.find((s) => s.name === "pipdu_pdu_results_total" && s.labels["status"] === "ok"),
    { labels: { pdu: "pdu1", code: "none" }, value: 1 },
  );
  t.like(
    samples.find((s) => s.name === "pipdu_gateway_commands_total"),
    { labels: { api: "pdudaemon-http", outcome: "ok" }, value: 1 },
  );
  // The simulated link is clean: the counters appear (once the agent has published its diagnostics), at zero.
  const link = await eventually("link counters in /metrics", async () => {
    const rows = parsePrometheus(await (await fetch(`${gw.base}/metrics`)).text());
    const errors = rows.find((s) => s.name === "pipdu_pdu_link_errors_total");
    const failures = rows.find((s) => s.name === "pipdu_pdu_link_failures_total");
    return errors && failures ? { errors, failures } : undefined;
  });
  t.like(link.errors, { labels: { pdu: "pdu1" }, value: 0 });
  t.like(link.failures, { labels: { pdu: "pdu1" }, value: 0 });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition format (0.0.4): # HELP/# TYPE lines, then name{label="value",…} number. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\w+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1] ?? "", type[2] ?? "");
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] ?? ""] = (l[2] ?? "").replace(/\\(.)/g, "$1");
    const name = m[1] ?? "";
    const family = name.replace(/_(bucket|sum|count)$/, "");
    if (!types.has(name) && !types.has(family)) throw new Error(`sample ${name} has no # TYPE`);
    samples.push({ name, labels, value: Number(m[3]) });
  }
  return samples;
}

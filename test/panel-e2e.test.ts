// The panel-agent and the pdu-agent as separate processes on a real broker (embedded Aedes and Mosquitto),
// the panel driven through the simulated panel's JSON API.
import test from "ava";
import { BROKERS, freePort, mosquittoPub, spawnPipdu, startBroker, tempDir } from "./helpers/system.ts";

interface PanelState {
  lcd: string[];
  leds: { button: number; lit: boolean; mode: string }[];
  buttons: { button: number; pdu: string; outlet: number; name: string }[];
}

const OUTLETS = JSON.stringify([
  { name: "Router", protected: true },
  {},
  { name: "NAS", load: { watts: 40, noise: 0, inrush: 0 } },
]);

async function getPanel(port: number): Promise<PanelState> {
  const res = await fetch(`http://127.0.0.1:${port}/api/panel`);
  return (await res.json()) as PanelState;
}

/** Polls the panel until `ok` holds; fails with the last state seen when the deadline passes. */
async function waitForPanel(
  port: number,
  what: string,
  ok: (s: PanelState) => boolean,
  timeoutMs = 20_000,
): Promise<PanelState> {
  const deadline = Date.now() + timeoutMs;
  let last: PanelState | string = "no answer";
  for (;;) {
    try {
      last = await getPanel(port);
      if (ok(last)) return last;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`panel never showed ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function press(port: number, button: number, ms: number): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/api/buttons/${button}/press`, {
    method: "POST",
    body: JSON.stringify({ ms }),
  });
}

const led = (s: PanelState, button: number): string => s.leds[button - 1]?.mode ?? "missing";

for (const kind of BROKERS) {
  test(`[${kind}] panel and pdu-agent as separate processes: long press toggles, short press shows power, LEDs follow mosquitto_pub`, async (t) => {
    const broker = await startBroker(t, kind);
    const env = {
      PIPDU_MQTT_URL: broker.url,
      PIPDU_STATE_DIR: tempDir(t),
      PIPDU_HARDWARE: "sim",
      PIPDU_OUTLETS: OUTLETS,
      PIPDU_TELEMETRY_INTERVAL: "0.2",
    };
    const pdu = spawnPipdu(t, ["pdu"], env);
    const port = await freePort();
    const panel = spawnPipdu(t, ["panel"], {
      PIPDU_MQTT_URL: broker.url,
      PIPDU_PANEL_DRIVER: "sim",
      PIPDU_PANEL_PORT: String(port),
    });
    t.teardown(() => {
      if (!t.passed) t.log(`pdu-agent:\n${pdu.output()}\npanel-agent:\n${panel.output()}`);
    });

    await waitForPanel(
      port,
      "the idle screen of pdu1",
      (s) => s.lcd[0]?.startsWith("piPDU ") === true && s.lcd[2] === "Outlets on 0 of 16  ",
    );
    t.is((await getPanel(port)).buttons[2]?.name, "NAS");

    // Hold button 3 for 2 s: outlet 3 switches on, its LED follows, the LCD gives the agent's outcome.
    const res = await press(port, 3, 2000);
    t.is(res.status, 200);
    const on = await waitForPanel(
      port,
      "outlet 3 switched on",
      (s) => led(s, 3) === "on" && s.lcd[1] === "Switched ON         ",
    );
    t.is(on.lcd[0], "3 NAS               ");

    // A short press shows the outlet's live power.
    t.is((await press(port, 3, 150)).status, 200);
    const shown = await waitForPanel(
      port,
      "outlet 3's power",
      (s) => /^3 NAS +ON$/.test(s.lcd[0] ?? "") && /^Power +[1-9]\d*\.\d W$/.test(s.lcd[1] ?? ""),
    );
    t.regex(shown.lcd[1] ?? "", /^Power +40\.0 W$/);

    // Changes made elsewhere (mosquitto_pub) reach the LEDs.
    await mosquittoPub(broker.port, "pipdu/pdu1/outlet/5/set", "ON");
    await waitForPanel(port, "LED 5 on", (s) => led(s, 5) === "on");
    await mosquittoPub(broker.port, "pipdu/pdu1/outlet/3/set", "OFF");
    await waitForPanel(port, "LED 3 off", (s) => led(s, 3) === "off");

    // A protected outlet does not switch off on a normal long press.
    await mosquittoPub(broker.port, "pipdu/pdu1/outlet/1/set", JSON.stringify({ state: "ON" }));
    await waitForPanel(port, "LED 1 on", (s) => led(s, 1) === "on");
    await press(port, 1, 2000);
    await waitForPanel(port, "the protected outlet's hold screen gone", (s) =>
      /^1 Router +ON$/.test(s.lcd[0] ?? ""),
    );
    t.is(led(await getPanel(port), 1), "on");

    // The PDU goes away: its LEDs blink slowly and the LCD says so.
    pdu.kill("SIGTERM");
    await waitForPanel(
      port,
      "pdu1 offline",
      (s) => led(s, 5) === "slow-blink" && s.lcd[0] === "! PDU pdu1 offline  ",
      30_000,
    );
  });

  test(`[${kind}] a lost broker is shown on the LCD and the panel reconnects by itself`, async (t) => {
    const broker = await startBroker(t, kind);
    spawnPipdu(t, ["pdu"], {
      PIPDU_MQTT_URL: broker.url,
      PIPDU_STATE_DIR: tempDir(t),
      PIPDU_HARDWARE: "sim",
    });
    const port = await freePort();
    const panel = spawnPipdu(t, ["panel"], {
      PIPDU_MQTT_URL: broker.url,
      PIPDU_PANEL_DRIVER: "sim",
      PIPDU_PANEL_PORT: String(port),
    });
    t.teardown(() => {
      if (!t.passed) t.log(`panel-agent:\n${panel.output()}`);
    });
    await waitForPanel(port, "the idle screen", (s) => s.lcd[0]?.startsWith("piPDU ") === true);
    await mosquittoPub(broker.port, "pipdu/pdu1/outlet/2/set", "ON");
    await waitForPanel(port, "LED 2 on", (s) => led(s, 2) === "on");
    await broker.stop();
    const lost = await waitForPanel(port, "the lost broker", (s) => s.lcd[0] === "! No MQTT broker    ");
    t.is(led(lost, 2), "off");
    await broker.restart();
    await waitForPanel(
      port,
      "the idle screen again",
      (s) => s.lcd[0]?.startsWith("piPDU ") === true && led(s, 2) === "on",
      30_000,
    );
    t.pass();
  });
}

test("the simulated panel's API refuses bad input with a code and changes nothing", async (t) => {
  const broker = await startBroker(t, "embedded");
  const port = await freePort();
  spawnPipdu(t, ["panel"], {
    PIPDU_MQTT_URL: broker.url,
    PIPDU_PANEL_DRIVER: "sim",
    PIPDU_PANEL_PORT: String(port),
  });
  await waitForPanel(port, "any screen", (s) => s.lcd.length === 4);
  const post = async (path: string, body?: string): Promise<[number, unknown]> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: "POST",
      ...(body === undefined ? {} : { body }),
    });
    return [res.status, await res.json()];
  };
  t.deepEqual(await post("/api/buttons/17/press", '{"ms":100}'), [
    400,
    { error: { code: "invalid_button", message: 'button "17" does not exist; allowed: 1 to 16' } },
  ]);
  t.deepEqual(await post("/api/buttons/1/press", '{"ms":-5}'), [
    400,
    { error: { code: "invalid_duration", message: '"ms" is -5; allowed: an integer from 0 to 60000' } },
  ]);
  t.deepEqual(await post("/api/buttons/1/press", "{oops"), [
    400,
    { error: { code: "invalid_payload", message: 'body must be JSON such as {"ms":2000}' } },
  ]);
  t.deepEqual(await post("/api/nothing"), [
    404,
    { error: { code: "not_found", message: "no such resource: /api/nothing" } },
  ]);
  t.deepEqual(
    (await getPanel(port)).leds.filter((l) => l.mode !== "off" && l.mode !== "slow-blink"),
    [],
  );
});

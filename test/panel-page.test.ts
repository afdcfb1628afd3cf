// The simulated panel's page in headless Chromium (Debian's chromium, driven by playwright-core): holding a
// button with the mouse switches its outlet and the LED follows; a short tap shows the outlet on the LCD.
import fs from "node:fs";
import test from "ava";
import { chromium } from "playwright-core";
import { freePort, spawnPipdu, startBroker, tempDir } from "./helpers/system.ts";

const CHROMIUM = process.env["PIPDU_CHROMIUM"] ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium && process.env["CI"] === "true")
  throw new Error(`${CHROMIUM} missing: CI must test the panel page in Chromium (apt-get install chromium)`);

(hasChromium ? test : test.skip)(
  "the simulated panel page: hold a button to switch, tap to show the outlet, LEDs follow",
  async (t) => {
    const broker = await startBroker(t, "embedded");
    const outlets = JSON.stringify([{}, { name: "Switch", load: { watts: 12, noise: 0, inrush: 0 } }]);
    spawnPipdu(t, ["pdu"], {
      PIPDU_MQTT_URL: broker.url,
      PIPDU_STATE_DIR: tempDir(t),
      PIPDU_HARDWARE: "sim",
      PIPDU_OUTLETS: outlets,
      PIPDU_TELEMETRY_INTERVAL: "0.2",
    });
    const port = await freePort();
    const panel = spawnPipdu(t, ["panel"], {
      PIPDU_MQTT_URL: broker.url,
      PIPDU_PANEL_DRIVER: "sim",
      PIPDU_PANEL_PORT: String(port),
      PIPDU_PANEL_SCREEN_SECONDS: "1",
    });
    t.teardown(() => {
      if (!t.passed) t.log(panel.output());
    });

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await page.goto(`http://127.0.0.1:${port}/`);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const lcd = page.locator("#lcd");
    const button = page.locator('.button[data-button="2"]');
    await lcd.filter({ hasText: "Outlets on 0 of 16" }).waitFor({ timeout: 20_000 });
    await page.locator('.button[data-button="2"] small', { hasText: "Switch" }).waitFor();

    // Press and hold with the mouse for 2 s: the outlet switches on and the LED lights.
    const box = await button.boundingBox();
    if (!box) throw new Error("button 2 not laid out");
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await lcd.filter({ hasText: "Hold to switch ON..." }).waitFor();
    await page.locator('.button[data-button="2"][data-mode="on"]').waitFor({ timeout: 20_000 });
    await page.mouse.up();
    await lcd.filter({ hasText: "Switched ON" }).waitFor();
    t.is(await button.getAttribute("data-lit"), "true");

    // A short tap shows the outlet and its live power.
    // The result screen goes back to idle after PIPDU_PANEL_SCREEN_SECONDS: the release has long been seen.
    await lcd.filter({ hasText: "Outlets on 1 of 16" }).waitFor({ timeout: 20_000 });
    await page.mouse.down();
    await page.waitForTimeout(150);
    await page.mouse.up();
    await lcd
      .filter({ hasText: /2 Switch +ON/ })
      .filter({ hasText: /Power +12\.0 W/ })
      .waitFor({ timeout: 20_000 });
    t.regex((await lcd.textContent()) ?? "", /Current +0\.052 A/);
  },
);

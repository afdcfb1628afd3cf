// Debian's Chromium driven by playwright-core, for the tests of web pages. One launch for every browser test:
// headless, and without the background networking this machine's closed network would refuse.
import fs from "node:fs";
import type { ExecutionContext } from "ava";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env["PIPDU_CHROMIUM"] ?? "/usr/bin/chromium";
export const hasChromium = fs.existsSync(CHROMIUM);

/** A headless Chromium closed when the test ends; `args` adds flags (say, host resolver rules). */
export async function launchBrowser(t: ExecutionContext, args: string[] = []): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...args,
    ],
  });
  t.teardown(() => browser.close());
  return browser;
}

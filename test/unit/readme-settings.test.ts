// The README's table of settings is the schema's: every setting, its variable and default, in order.
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import { settingLeaves } from "../../config/load.ts";
import { TABLE_END, TABLE_START, settingsTable } from "../../config/settings-table.ts";

const readme = fs.readFileSync(path.join(import.meta.dirname, "../../README.md"), "utf8");

test("the README's settings table is the one the schema makes (npm run docs:settings rewrites it)", (t) => {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  t.true(start !== -1 && end > start, "README.md has the table markers");
  t.is(readme.slice(start + TABLE_START.length, end).trim(), settingsTable(), "run npm run docs:settings");
});

test("every setting has a row with its variable, so none can be missing from the README", (t) => {
  const table = settingsTable();
  const leaves = settingLeaves();
  t.true(leaves.length > 70, String(leaves.length));
  for (const { key, env } of leaves) {
    t.truthy(env, `${key} has a PIPDU_ variable`);
    t.true(table.includes(`| \`${key}\` | \`${env ?? ""}\` |`), key);
  }
  t.true(table.includes("| `panel.port` | `PIPDU_PANEL_PORT` | `8081` |"));
  t.true(table.includes("| `i2c.address` | `PIPDU_I2C_ADDRESS` | `0x42` |"));
});

// npm run docs:settings: rewrite the README's table of settings from config/schema.ts.
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../bin/sources.js";
import { withSettingsTable } from "../config/settings-table.ts";

const file = path.join(ROOT, "README.md");
fs.writeFileSync(file, withSettingsTable(fs.readFileSync(file, "utf8")));
console.log("README.md: settings table written");

// The folders that make up the running product: compiled to dist/ by scripts/build.js, and watched by
// bin/pipdu.js to tell whether dist/ is up to date.
import fs from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const SOURCE_DIRS = [
  "lib",
  "client",
  "protocol",
  "broker",
  "pdu-agent",
  "panel-agent",
  "gateway",
  "homeassistant",
  "config",
  "cli",
  "log",
].filter((dir) => fs.existsSync(path.join(ROOT, dir)));

/** Every file below a source folder, relative to the package root. */
export function sourceFiles(dir) {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(rel) : [rel];
  });
}

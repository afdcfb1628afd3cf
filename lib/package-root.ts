// The package's root folder, whether the code runs from the sources or from the compiled dist/.
import fs from "node:fs";
import path from "node:path";

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "package.json");
    if (
      fs.existsSync(candidate) &&
      (JSON.parse(fs.readFileSync(candidate, "utf8")) as { name?: string }).name === "pipdu"
    )
      return dir;
    if (path.dirname(dir) === dir) throw new Error(`package root of ${start} not found`);
  }
}

export const PACKAGE_ROOT = findRoot(import.meta.dirname);

export const PACKAGE_VERSION = (
  JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }
).version;

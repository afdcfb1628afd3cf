// Write a file so that a crash at any instant leaves either the old or the new content, never a torn one.
import fs from "node:fs";
import path from "node:path";

export function writeFileAtomicSync(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Parsed JSON, or null when the file is missing. Throws on a file that exists but cannot be parsed. */
export function readJsonSync(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  return JSON.parse(text) as unknown;
}

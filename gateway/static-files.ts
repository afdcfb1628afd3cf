// The web page: plain files from gateway/public, read once at start (no build step, nothing outside the folder).
import fs from "node:fs";
import path from "node:path";
import type { ServerResponse } from "node:http";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".yaml": "application/yaml; charset=utf-8",
};

export class StaticFiles {
  private readonly files = new Map<string, { body: Buffer; type: string }>();

  constructor(dir: string, extra: Record<string, string> = {}) {
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      if (fs.statSync(file).isFile()) this.add(`/${name}`, file);
    }
    const index = this.files.get("/index.html");
    if (index) this.files.set("/", index);
    for (const [route, file] of Object.entries(extra)) if (fs.existsSync(file)) this.add(route, file);
  }

  /** True when the path is one of the files and has been answered. */
  serve(res: ServerResponse, pathname: string, head: boolean): boolean {
    const file = this.files.get(pathname);
    if (!file) return false;
    res.writeHead(200, {
      "content-type": file.type,
      "content-length": String(file.body.length),
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    });
    res.end(head ? undefined : file.body);
    return true;
  }

  private add(route: string, file: string): void {
    this.files.set(route, {
      body: fs.readFileSync(file),
      type: TYPES[path.extname(file)] ?? "application/octet-stream",
    });
  }
}

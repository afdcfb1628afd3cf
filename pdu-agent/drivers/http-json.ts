// HTTP for the device drivers: a timeout on every request, a size limit on every answer, JSON parsed without
// trusting its shape (callers read it through the `field` helpers).
const TIMEOUT_MS = 5000;
const MAX_BYTES = 64 * 1024;

export async function httpJson(url: string, init: RequestInit = {}): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new Error(`${printableUrl(url)}: ${cause ?? (err as Error).message}`);
  }
  const text = await readLimited(response, url);
  if (!response.ok) throw new Error(`${printableUrl(url)}: HTTP ${response.status}`);
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${printableUrl(url)}: answer is not JSON`);
  }
}

/** The body as text, given up (and the connection dropped) as soon as it passes MAX_BYTES. */
async function readLimited(response: Response, url: string): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: { done: true; value?: undefined } | { done: false; value: Uint8Array };
    try {
      chunk = (await reader.read()) as typeof chunk;
    } catch (err) {
      throw new Error(`${printableUrl(url)}: ${(err as Error).message}`);
    }
    if (chunk.done) break;
    const value = chunk.value;
    size += value.byteLength;
    if (size > MAX_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`${printableUrl(url)}: answer longer than ${MAX_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The URL without its query (where Tasmota carries a password). */
function printableUrl(url: string): string {
  return url.split("?")[0] ?? url;
}

export function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** "ON"/"OFF" (any case), true/false → boolean; anything else → null. */
export function onOff(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (typeof value !== "string") return null;
  const v = value.toUpperCase();
  return v === "ON" ? true : v === "OFF" ? false : null;
}

export function finite(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

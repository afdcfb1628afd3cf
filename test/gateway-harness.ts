// Shared by the gateway tests: a gateway against a test broker, plain HTTP and raw TCP clients.
import net from "node:net";
import type { ExecutionContext } from "ava";
import type { Settings } from "../config/settings.ts";
import { Gateway, type GatewayAddress } from "../gateway/gateway.ts";
import type { ListenerTimings } from "../gateway/pdudaemon-listener.ts";
import { silentLogger, createLogger } from "../log/logger.ts";

export async function startGateway(
  t: ExecutionContext,
  settings: Settings,
  timings?: Partial<ListenerTimings & { headersTimeoutMs: number }>,
): Promise<GatewayAddress & { gateway: Gateway; base: string }> {
  const gatewaySettings: Settings = {
    ...settings,
    http: { port: 0 },
    pdudaemon: { port: 0 },
    gateway: { ...settings.gateway, host: "127.0.0.1" },
  };
  const logger = process.env["PIPDU_TEST_LOG"] ? createLogger({ level: "debug" }) : silentLogger();
  const gateway = new Gateway({ settings: gatewaySettings, logger, ...(timings ? { timings } : {}) });
  const address = await gateway.start();
  t.teardown(() => gateway.stop());
  return { ...address, gateway, base: `http://127.0.0.1:${address.httpPort}` };
}

/** Wait until the gateway has seen `pdu`'s info (retained, so it arrives right after subscribing). */
export async function waitForPdu(base: string, pdu: string, outlets = 1): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const response = await fetch(`${base}/api/pdus`);
    const pdus = (await response.json()) as {
      id: string;
      online: boolean;
      outlets: { state: string | null }[];
    }[];
    const found = pdus.find((p) => p.id === pdu);
    if (found?.online && found.outlets.length >= outlets && found.outlets.every((o) => o.state !== null))
      return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gateway never saw PDU ${pdu}`);
}

/** Exactly what pduclient does in TCP mode: one send with no newline, no half-close, read until the server closes. */
export function pduclientTcp(port: number, line: string | Buffer): Promise<Buffer> {
  return rawTcp(port, [typeof line === "string" ? Buffer.from(line, "utf8") : line]);
}

/** Send chunks (with optional pauses between them), never half-close, and collect the reply until close. */
export function rawTcp(port: number, chunks: (Buffer | number)[], halfClose = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let reply = Buffer.alloc(0);
    socket.on("data", (d: Buffer) => (reply = Buffer.concat([reply, d])));
    socket.once("error", (err: NodeJS.ErrnoException) =>
      err.code === "EPIPE" || err.code === "ECONNRESET" ? resolve(reply) : reject(err),
    );
    socket.once("close", () => resolve(reply));
    socket.once("connect", () => {
      void (async () => {
        for (const chunk of chunks) {
          if (socket.destroyed) return;
          if (typeof chunk === "number") await new Promise((r) => setTimeout(r, chunk));
          else socket.write(chunk);
        }
        if (halfClose) socket.end();
      })();
    });
  });
}

/** An HTTP/1.1 request written by hand, byte for byte as a given client sends it; resolves with the raw response. */
export function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      reply += d;
      const m = /content-length: (\d+)\r\n/i.exec(reply);
      const end = reply.indexOf("\r\n\r\n");
      if (m && end >= 0 && Buffer.byteLength(reply.slice(end + 4)) >= Number(m[1])) socket.end();
    });
    socket.once("error", reject);
    socket.once("close", () => resolve(reply));
    socket.once("connect", () => socket.write(request));
  });
}

/** The request python-requests (pduclient -H, labgrid's PDUDaemonDriver) sends for a URL path. */
export function requestsGet(port: number, pathAndQuery: string): string {
  return [
    `GET ${pathAndQuery} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "User-Agent: python-requests/2.32.3",
    "Accept-Encoding: gzip, deflate",
    "Accept: */*",
    "Connection: keep-alive",
    "",
    "",
  ].join("\r\n");
}

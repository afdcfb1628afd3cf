// The sockets the embedded broker accepts MQTT on: plain TCP, WebSocket, and TLS.
// Each listener hands an accepted connection (a Duplex) to `accept`; the broker does the rest.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import { createWebSocketStream, WebSocketServer } from "ws";

/** Where a connection came from: the broker decides what the address is worth on each transport. */
export interface Peer {
  address: string | undefined;
  transport: "tcp" | "tls" | "ws";
  request?: IncomingMessage;
}

export type Accept = (stream: Duplex, peer: Peer) => void;
/** An error of the listening socket itself (not of one connection): logged, never thrown. */
export type OnError = (error: Error) => void;

export interface Listener {
  readonly port: number;
  /** Stops accepting, drops the connections still open, resolves when the socket is closed. */
  close(): Promise<void>;
}

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export async function listenTcp(
  host: string,
  port: number,
  accept: Accept,
  onError: OnError,
): Promise<Listener> {
  const server = createTcpServer((socket) => {
    socket.setNoDelay(true); // Nagle costs ~40 ms per QoS 1 round trip, see reference/mqtt.md
    accept(socket, { address: socket.remoteAddress, transport: "tcp" });
  });
  return socketListener(server, await bind(server, host, port, onError));
}

export async function listenTls(
  host: string,
  port: number,
  files: TlsFiles,
  accept: Accept,
  onError: OnError,
): Promise<Listener> {
  const server = createTlsServer({ ...files, minVersion: "TLSv1.2" }, (socket: TLSSocket) => {
    socket.setNoDelay(true);
    accept(socket, { address: socket.remoteAddress, transport: "tls" });
  });
  return socketListener(server, await bind(server, host, port, onError));
}

/**
 * MQTT over WebSocket. A browser always sends `Origin`: a page on another site could otherwise use a
 * visitor's browser to reach the broker, so only `allowedOrigins` are let in ("*" for any); clients that
 * send no Origin (MQTT.js in Node, mosquitto tools, Home Assistant) are not browsers and are let in.
 */
export async function listenWebSocket(
  host: string,
  port: number,
  accept: Accept,
  onError: OnError,
  allowedOrigins: readonly string[] = [],
): Promise<Listener> {
  const http = createHttpServer((_request, response) => {
    response.writeHead(426, { "content-type": "text/plain" }).end("MQTT over WebSocket only\n");
  });
  // MQTT over WebSocket clients offer the "mqtt" subprotocol (some offer "mqttv3.1"); accept any.
  const wss = new WebSocketServer({
    server: http,
    verifyClient: (
      { origin }: { origin?: string },
      done: (ok: boolean, code?: number, message?: string) => void,
    ) => {
      const ok = origin === undefined || allowedOrigins.includes("*") || allowedOrigins.includes(origin);
      done(ok, 403, "origin not allowed (broker.wsOrigins)");
    },
  });
  wss.on("error", onError);
  wss.on("connection", (ws, request) => {
    request.socket.setNoDelay(true);
    accept(createWebSocketStream(ws), { address: request.socket.remoteAddress, transport: "ws", request });
  });
  const bound = await bind(http, host, port, onError);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

function socketListener(server: TcpServer, port: number): Listener {
  const open = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

function bind(server: TcpServer | HttpServer, host: string, port: number, onError: OnError): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      server.on("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

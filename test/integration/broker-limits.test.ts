// What a connection may cost the embedded broker: packets are small until the client is authenticated,
// and connections are capped in total and per address.
import { connect, type Socket } from "node:net";
import test, { type ExecutionContext } from "ava";
import { EmbeddedBroker, type BrokerOptions } from "../../broker/embedded-broker.ts";
import { silentLogger } from "../../log/logger.ts";
import { connectClient, connectionRefusal, nextMessage } from "../helpers/mqtt-clients.ts";

async function startBroker(
  t: ExecutionContext,
  options: Partial<BrokerOptions> = {},
): Promise<{ port: number; wsPort: number }> {
  const broker = new EmbeddedBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: 0,
    stateDir: null,
    logger: silentLogger(),
    allowAnonymous: true,
    ...options,
  });
  t.teardown(() => broker.stop());
  const { port, wsPort } = await broker.start();
  return { port, wsPort: wsPort ?? 0 };
}

/** Writes `header`, then zeros in 16 KiB chunks until the broker closes the socket; resolves with the bytes it took. */
function sendUntilClosed(t: ExecutionContext, port: number, header: Buffer, upTo: number): Promise<number> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, "127.0.0.1");
    t.teardown(() => socket.destroy());
    let sent = 0;
    let open = true;
    socket.on("error", () => undefined);
    socket.on("close", () => {
      open = false;
      resolve(sent);
    });
    const chunk = Buffer.alloc(16 * 1024);
    const pump = (): void => {
      while (open && sent < upTo) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
      if (sent >= upTo) resolve(sent);
    };
    socket.once("connect", () => {
      socket.write(header);
      pump();
    });
  });
}

/** A fixed header: packet type byte and the MQTT Remaining Length encoding of `length`. */
function fixedHeader(type: number, length: number): Buffer {
  const bytes = [type];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

test("an unauthenticated CONNECT announcing 200 MB is dropped at its header; the broker keeps serving", async (t) => {
  const { port } = await startBroker(t);
  const sent = await sendUntilClosed(t, port, fixedHeader(0x10, 200_000_000), 64 * 1024 * 1024);
  t.true(sent < 64 * 1024 * 1024, `the broker closed the connection (after ${sent} bytes were written)`);
  const client = await connectClient(t, `mqtt://127.0.0.1:${port}`);
  t.true(client.connected);
});

test("a CONNECT with a 20 kB will is refused before authentication; a small one connects", async (t) => {
  const { port } = await startBroker(t);
  const url = `mqtt://127.0.0.1:${port}`;
  const will = {
    topic: "pipdu/x/availability",
    payload: Buffer.alloc(20_000),
    qos: 1 as const,
    retain: false,
  };
  t.is(await connectionRefusal(t, url, { will }), "closed");
  t.true((await connectClient(t, url, { will: { ...will, payload: Buffer.from("offline") } })).connected);
});

test("once authenticated, a client may send packets above the pre-authentication limit, up to the maximum", async (t) => {
  const { port } = await startBroker(t);
  const client = await connectClient(t, `mqtt://127.0.0.1:${port}`, { protocolVersion: 5 });
  await client.subscribeAsync("pipdu/big", { qos: 1 });
  const received = nextMessage(client, "pipdu/big");
  await client.publishAsync("pipdu/big", Buffer.alloc(100_000, 0x61), { qos: 1 });
  t.is((await received).payload.length, 100_000);
});

test("connections beyond the total cap are dropped; one frees a place when it closes", async (t) => {
  const { port } = await startBroker(t, { connections: { total: 3, perAddress: 3 } });
  const url = `mqtt://127.0.0.1:${port}`;
  const clients = [await connectClient(t, url), await connectClient(t, url), await connectClient(t, url)];
  t.is(await connectionRefusal(t, url), "closed");
  await clients[0]?.endAsync();
  t.true((await connectClient(t, url)).connected);
});

test("connections beyond the per-address cap are dropped (WebSocket connections count from loopback too)", async (t) => {
  const { port, wsPort } = await startBroker(t, { connections: { total: 100, perAddress: 2 } });
  const ws = `ws://127.0.0.1:${wsPort}`;
  await connectClient(t, ws);
  await connectClient(t, ws);
  t.regex(String(await connectionRefusal(t, ws)), /closed|EPIPE|ECONNRESET/, "dropped without a CONNACK");
  t.true(
    (await connectClient(t, `mqtt://127.0.0.1:${port}`)).connected,
    "plain TCP from loopback is not capped per address",
  );
});

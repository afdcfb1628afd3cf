import test from "ava";
import type { Duplex } from "node:stream";
import { streamPair } from "../../lib/stream-pair.ts";

function collect(stream: Duplex): Buffer[] {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return chunks;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("what one side writes the other reads, both ways", async (t) => {
  const [a, b] = streamPair();
  const atB = collect(b);
  const atA = collect(a);
  a.write("ping");
  b.write("pong");
  await tick();
  t.is(Buffer.concat(atB).toString(), "ping");
  t.is(Buffer.concat(atA).toString(), "pong");
});

test("writes made while corked (one MQTT packet written in pieces) arrive as one chunk", async (t) => {
  const [a, b] = streamPair();
  const atB = collect(b);
  a.cork();
  a.write(Buffer.from([0x30, 0x0a]));
  a.write("topic");
  a.write("payload");
  process.nextTick(() => a.uncork());
  await tick();
  t.deepEqual(
    atB.map((c) => c.toString("latin1")),
    ["\x30\x0atopicpayload"],
  );
});

test("a reader that does not read holds the writer back, and nothing is lost", async (t) => {
  const [a, b] = streamPair();
  const big = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  for (let i = 0; i < 8; i++) if (a.write(big)) written++;
  t.true(written < 8, "the writer is told to wait");
  const atB = collect(b);
  await new Promise((resolve) => a.once("drain", resolve));
  await tick();
  t.is(Buffer.concat(atB).length, 8 * big.length);
});

test("ending one side ends the other's reading", async (t) => {
  const [a, b] = streamPair();
  collect(b);
  const ended = new Promise<void>((resolve) => b.once("end", resolve));
  a.end("last");
  await ended;
  t.pass();
});

test("a write after the other side was destroyed fails instead of vanishing", async (t) => {
  const [a, b] = streamPair();
  a.on("error", () => undefined);
  b.destroy();
  const error = await new Promise<Error | null | undefined>((resolve) => a.write("x", resolve));
  t.regex(String(error), /closed/);
});

test("a write held back by a full reader fails when the reader is destroyed, instead of hanging", async (t) => {
  const [a, b] = streamPair();
  a.on("error", () => undefined);
  const big = Buffer.alloc(64 * 1024, 1);
  const done: Promise<Error | null | undefined>[] = [];
  for (let i = 0; i < 4; i++) done.push(new Promise((resolve) => a.write(big, resolve)));
  b.destroy();
  const results = await Promise.all(done);
  t.true(results.some((e) => e instanceof Error));
});

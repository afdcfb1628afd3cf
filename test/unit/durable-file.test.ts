import test from "ava";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CoalescedWriter, readJson, writeFileAtomic } from "../../lib/durable-file.ts";

function tmpFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "durable-")), "state.json");
}

test("writeFileAtomic leaves the new content and no temp file behind", async (t) => {
  const file = tmpFile();
  await writeFileAtomic(file, "old");
  await writeFileAtomic(file, '{"v":2}');
  t.deepEqual(await readJson(file), { v: 2 });
  t.deepEqual(fs.readdirSync(path.dirname(file)), ["state.json"]);
});

test("readJson answers null for a missing file and throws for a torn one", async (t) => {
  const file = tmpFile();
  t.is(await readJson(file), null);
  fs.writeFileSync(file, '{"v":');
  await t.throwsAsync(readJson(file));
});

test("a burst of changes to a coalesced writer costs one write holding the newest content", async (t) => {
  const file = tmpFile();
  const writer = new CoalescedWriter(file, { delayMs: 5 });
  for (let i = 1; i <= 100; i++) writer.schedule(() => JSON.stringify({ v: i }));
  await writer.flush();
  t.is(writer.writeCount, 1);
  t.deepEqual(await readJson(file), { v: 100 });
});

test("changes made while a write runs are written once more afterwards", async (t) => {
  const file = tmpFile();
  const writer = new CoalescedWriter(file);
  let v = 0;
  writer.schedule(() => JSON.stringify({ v: ++v }));
  await new Promise((r) => setImmediate(r));
  writer.schedule(() => JSON.stringify({ v: ++v }));
  writer.schedule(() => JSON.stringify({ v: ++v }));
  await writer.flush();
  t.true(writer.writeCount <= 2);
  t.deepEqual(await readJson(file), { v });
});

test("under a steady stream of changes a coalesced writer renders once per delay, not back to back", async (t) => {
  const file = tmpFile();
  const writer = new CoalescedWriter(file, { delayMs: 50 });
  let renders = 0;
  let v = 0;
  const until = Date.now() + 300;
  while (Date.now() < until) {
    writer.schedule(() => {
      renders++;
      return JSON.stringify({ v });
    });
    v++;
    await new Promise((r) => setTimeout(r, 1));
  }
  await writer.flush();
  // 300 ms of changes with a 50 ms delay: about 6 writes (a write takes its own time on top), and the last
  // change is on disk. Writing again as soon as the previous write ended rendered it dozens of times.
  t.true(renders <= 8, `${renders} renders`);
  t.deepEqual(await readJson(file), { v });
});

test("flush rejects when the file cannot be written", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-"));
  const blocker = path.join(dir, "not-a-dir");
  fs.writeFileSync(blocker, "");
  const writer = new CoalescedWriter(path.join(blocker, "state.json"));
  writer.schedule(() => "x");
  await t.throwsAsync(writer.flush());
  t.is(writer.writeCount, 0);
});

test("two flushes at once both wait for the write, and a change made meanwhile is written too", async (t) => {
  const file = tmpFile();
  const writer = new CoalescedWriter(file, { delayMs: 10_000 });
  writer.schedule(() => JSON.stringify({ v: 1 }));
  const first = writer.flush();
  writer.schedule(() => JSON.stringify({ v: 2 }));
  const second = writer.flush();
  await Promise.all([first, second]);
  t.deepEqual(await readJson(file), { v: 2 });
  t.is(writer.writeCount, 2);
});

test("a render that throws is reported and the writer keeps working", async (t) => {
  const file = tmpFile();
  const writer = new CoalescedWriter(file);
  writer.schedule(() => {
    throw new Error("cannot render");
  });
  await t.throwsAsync(writer.flush(), { message: "cannot render" });
  writer.schedule(() => JSON.stringify({ v: 3 }));
  await writer.flush();
  t.deepEqual(await readJson(file), { v: 3 });
});

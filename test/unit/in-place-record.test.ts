// InPlaceRecord: a small state record written in place, readable by anyone as soon as put() resolves.
import test from "ava";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InPlaceRecord } from "../../lib/durable-file.ts";

function tempFile(t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-record-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, "sub", "record.json");
}

test("each put is in the file, as valid JSON of the record's fixed size, as soon as it resolves", async (t) => {
  const file = tempFile(t);
  const record = new InPlaceRecord(file, { size: 32 });
  t.teardown(() => record.close());
  for (const relays of [5, 65535, 0, 12]) {
    await record.put(JSON.stringify({ relays }));
    const text = fs.readFileSync(file, "utf8");
    t.deepEqual(JSON.parse(text), { relays });
    t.is(text.length, 32);
  }
});

test("a longer file from before is replaced whole by the first put", async (t) => {
  const file = tempFile(t);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ relays: 1, note: "x".repeat(100) }));
  const record = new InPlaceRecord(file, { size: 32 });
  await record.put(JSON.stringify({ relays: 3 }));
  await record.close();
  t.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), { relays: 3 });
});

test("content that does not fit the record is refused and the file keeps the last record", async (t) => {
  const file = tempFile(t);
  const record = new InPlaceRecord(file, { size: 16 });
  t.teardown(() => record.close());
  await record.put('{"relays":7}');
  await t.throwsAsync(record.put(JSON.stringify({ relays: 7, much: "too long" })), {
    instanceOf: RangeError,
  });
  t.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), { relays: 7 });
});

import test from "ava";
import winston from "winston";
import { Writable } from "node:stream";
import { MessageGuard } from "../../lib/message-guard.ts";

function recorder(): { logger: winston.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString().trim());
      done();
    },
  });
  const logger = winston.createLogger({
    format: winston.format.printf((i) => `${i.level} ${String(i.message)}`),
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's types split Transport
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

test("a flood of drops is counted in full but logged once a minute per kind, with how many were left out", (t) => {
  const { logger, lines } = recorder();
  let now = 0;
  const guard = new MessageGuard(logger, "gateway", () => now);
  for (let i = 0; i < 1000; i++) guard.drop("info", "invalid", "info.outlets[0] is not an object");
  guard.drop("state", "invalid", '"MAYBE" is not one of ON, OFF');
  now = 60_000;
  guard.drop("info", "invalid", "not valid JSON");
  t.deepEqual(lines, [
    "warn dropped info message: invalid: info.outlets[0] is not an object",
    'warn dropped state message: invalid: "MAYBE" is not one of ON, OFF',
    "warn dropped info message: invalid: not valid JSON (999 more dropped since the last report)",
  ]);
  t.deepEqual(guard.dropped(), [
    { kind: "info", reason: "invalid", count: 1001 },
    { kind: "state", reason: "invalid", count: 1 },
  ]);
});

test("an exception in a guarded handler is logged as an error with its stack and counted, not rethrown", (t) => {
  const { logger, lines } = recorder();
  const guard = new MessageGuard(logger, "panel");
  t.notThrows(() =>
    guard.guard("tick", () => {
      throw new TypeError("cannot read properties of null");
    }),
  );
  t.regex(
    lines[0] ?? "",
    /^error tick handler failed \(the process goes on\): TypeError: cannot read properties of null\n\s+at /,
  );
  t.deepEqual(guard.dropped(), [{ kind: "tick", reason: "handler_error", count: 1 }]);
});

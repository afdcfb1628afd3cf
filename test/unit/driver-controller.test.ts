// What every driver-backed PDU gets from DriverController: PDUDaemon's retries and retry delay, a switch read
// back where the device can say, and the state piPDU set where it cannot.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { DriverController, type DeviceIo } from "../../pdu-agent/drivers/driver-controller.ts";
import { HardwareError } from "../../pdu-agent/hardware/outlet-controller.ts";

function controller(io: DeviceIo, retries = 3, sleeps: number[] = []): DriverController {
  return new DriverController(io, {
    driver: "test",
    address: "dev1",
    outletCount: 4,
    retries,
    retryDelay: 2,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
}

test("a failing switch is tried `retries` times, `retrydelay` seconds apart, then fails with the device's reason", async (t) => {
  const sleeps: number[] = [];
  let calls = 0;
  const c = controller(
    {
      switch: () => {
        calls++;
        return Promise.reject(new Error("connection refused"));
      },
    },
    3,
    sleeps,
  );
  const err = await t.throwsAsync(c.setRelay(2, true), { instanceOf: HardwareError });
  t.is(err.message, "test dev1: connection refused (3 attempts)");
  t.is(calls, 3);
  t.deepEqual(sleeps, [2000, 2000]);
  t.deepEqual(await c.readRelays(), [false, false, false, false]);
});

test("a switch that succeeds on a later attempt resolves with the states", async (t) => {
  let calls = 0;
  const c = controller({
    switch: () => (++calls < 2 ? Promise.reject(new Error("timeout")) : Promise.resolve()),
  });
  t.deepEqual(await c.setRelay(3, true), [false, false, true, false]);
  t.is(c.counters().retries, 1);
});

test("a device that reads back the other state fails the switch as unverified", async (t) => {
  const c = controller(
    { switch: () => Promise.resolve(), read: () => Promise.resolve([false, false, false, false]) },
    1,
  );
  const err = await t.throwsAsync(c.setRelay(1, true), { instanceOf: HardwareError });
  t.is(err.code, "unverified");
  t.regex(err.message, /outlet 1 reads back OFF/);
});

test("where a device cannot say (null), the state piPDU last set is kept", async (t) => {
  const c = controller({
    switch: () => Promise.resolve(),
    read: () => Promise.resolve([null, true, null, null]),
  });
  t.deepEqual(await c.setRelay(1, true), [true, true, false, false]);
});

test("outlets outside 1..outletCount are refused before the device is asked", async (t) => {
  let calls = 0;
  const c = controller({
    switch: () => {
      calls++;
      return Promise.resolve();
    },
  });
  await t.throwsAsync(c.setRelay(0, true));
  await t.throwsAsync(c.setRelay(5, true));
  await t.throwsAsync(c.setRelay(1.5, true));
  t.is(calls, 0);
});

test("the states piPDU set on a write-only device are shown again after a restart", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-driver-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const stateFile = path.join(dir, "outlets.json");
  const make = (): DriverController =>
    new DriverController(
      { switch: () => Promise.resolve() },
      { driver: "test", address: "dev1", outletCount: 4, retries: 1, retryDelay: 0, stateFile },
    );
  const first = make();
  await first.setRelay(2, true);
  await first.setRelay(4, true);
  await first.close();
  const second = make();
  t.deepEqual(await second.readRelays(), [false, true, false, true]);
  await second.close();
});

test("an unreadable state file means all off, not a failure", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-driver-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const stateFile = path.join(dir, "outlets.json");
  fs.writeFileSync(stateFile, "{torn");
  const c = new DriverController(
    { switch: () => Promise.resolve() },
    { driver: "test", address: "dev1", outletCount: 2, retries: 1, retryDelay: 0, stateFile },
  );
  t.deepEqual(await c.readRelays(), [false, false]);
});

test("a device's current that is not a plausible outlet reading (NaN, negative, infinite, absurdly high) counts as none", async (t) => {
  const c = controller({
    switch: () => Promise.resolve(),
    currents: () => Promise.resolve([Number.NaN, -1, Number.POSITIVE_INFINITY, 1.7e308, 2.5, 100]),
  });
  // Six readings for four outlets: the extra ones are not this PDU's.
  t.deepEqual(await c.readCurrents(), [0, 0, 0, 0]);
  const d = new DriverController(
    { switch: () => Promise.resolve(), currents: () => Promise.resolve([1e6, 2.5, 100, 100.5]) },
    { driver: "test", address: "dev1", outletCount: 4, retries: 1, retryDelay: 0 },
  );
  t.deepEqual(await d.readCurrents(), [0, 2.5, 100, 0]);
});

test("a device's words in a failure are one printable line, however long or full of control characters", async (t) => {
  const hostile = `bad\u001b[2J\r\nfake: outlet 3 ok\u0007${"x".repeat(5000)}`;
  const c = controller(
    { switch: () => Promise.reject(new Error(hostile)), read: () => Promise.reject(new Error(hostile)) },
    1,
  );
  const messages = [
    (await t.throwsAsync(c.setRelay(1, true))).message,
    (await t.throwsAsync(c.readRelays())).message,
  ];
  for (const message of messages) {
    t.true(message.startsWith("test dev1: bad?[2J??fake: outlet 3 ok?xxx"), message.slice(0, 60));
    t.notRegex(message, /[\u0000-\u001f\u007f-\u009f]/);
    t.true(message.length <= 320, String(message.length));
  }
});

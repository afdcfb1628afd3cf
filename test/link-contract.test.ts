// One contract for the I2C link, run unchanged against the TypeScript simulator and the host-built firmware.
import fs from "node:fs";
import test from "ava";
import { Reg } from "../protocol/register-map.ts";
import { DEFAULT_BRIDGE_PATH, FirmwareBridgeBus } from "./helpers/firmware-bridge-bus.ts";
import type { I2cBus } from "../lib/i2c-bus.ts";
import { HardwareError } from "../pdu-agent/hardware/outlet-controller.ts";
import { LinkError, RegisterClient } from "../pdu-agent/hardware/register-client.ts";
import { RegisterOutletController } from "../pdu-agent/hardware/register-outlet-controller.ts";
import { SimBus, type Fault } from "../pdu-agent/hardware/sim/sim-bus.ts";
import { SimFirmware } from "../pdu-agent/hardware/sim/sim-firmware.ts";

const ADDRESS = 0x42;
const VOLTS = 230;

interface LinkFixture {
  bus: I2cBus;
  inject(...faults: Fault[]): Promise<void>;
  /** Faults on a random share of transactions from now on. */
  faultRate(rate: number): void;
  setLoad(outlet: number, amps: number): Promise<void>;
  /** Let the measurement run (the bridge's clock only moves when told). */
  settle(): Promise<void>;
  /** The relay outputs themselves, not what the registers say. */
  relayPins(): Promise<number>;
  close(): Promise<void>;
  /** A watchdog reset of the firmware (null where the fixture has none). */
  watchdogReset: (() => Promise<void>) | null;
}

function simulator(): Promise<LinkFixture> {
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const loads = Array.from({ length: 16 }, () => ({ watts: 0, noise: 0, inrush: 0 }));
  const firmware = new SimFirmware({
    address: ADDRESS,
    outletCount: 16,
    loads,
    initialRelays: 0,
    voltage: VOLTS,
    powerFactor: 1,
    random,
  });
  const bus = new SimBus(random);
  bus.attach(firmware);
  return Promise.resolve({
    bus,
    inject: (...faults) => Promise.resolve(bus.injectFault(...faults)),
    faultRate: (rate) => (bus.faultRate = rate),
    setLoad: (outlet, amps) =>
      Promise.resolve(firmware.setLoad(outlet, { watts: amps * VOLTS, noise: 0, inrush: 0 })),
    settle: () => Promise.resolve(),
    relayPins: () => Promise.resolve(firmware.relayMask),
    close: () => bus.close(),
    watchdogReset: null,
  });
}

async function firmwareBridge(): Promise<LinkFixture> {
  const bus = await FirmwareBridgeBus.start({ address: ADDRESS, outlets: 16, seed: 7 });
  let rate = 0;
  let seed = 11;
  const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const faults: Fault[] = ["corrupt", "nack", "zero", "short"];
  // The bridge queues faults per transaction; a random rate is drawn here, one transaction ahead.
  const wrapped: I2cBus = {
    write: async (a, b) => {
      if (rate > 0 && random() < rate) await bus.injectFault(faults[Math.floor(random() * 4)] ?? "nack");
      return bus.write(a, b);
    },
    read: async (a, n) => {
      if (rate > 0 && random() < rate) await bus.injectFault(faults[Math.floor(random() * 4)] ?? "nack");
      return bus.read(a, n);
    },
    close: () => bus.close(),
  };
  return {
    bus: wrapped,
    inject: (...f) => bus.injectFault(...f),
    faultRate: (r) => (rate = r),
    setLoad: (outlet, amps) => bus.setLoad(outlet, amps),
    settle: () => bus.advance(1500),
    relayPins: () => bus.relayPins(),
    close: () => bus.close(),
    watchdogReset: () => bus.reset("watchdog"),
  };
}

const bridgeBuilt = fs.existsSync(DEFAULT_BRIDGE_PATH);
if (!bridgeBuilt && process.env["CI"] === "true")
  throw new Error(`${DEFAULT_BRIDGE_PATH} missing: CI must run make -C firmware bridge first`);
const fixtures: [string, () => Promise<LinkFixture>][] = [["simulator", simulator]];
if (bridgeBuilt) fixtures.push(["firmware", firmwareBridge]);

for (const [name, make] of fixtures) {
  const setup = async () => {
    const fx = await make();
    const client = new RegisterClient(fx.bus, ADDRESS, { sleep: () => Promise.resolve() });
    const controller = new RegisterOutletController(client, "simulator", () => fx.close());
    await controller.describe();
    return { fx, client, controller };
  };

  test(`[${name}] identifies itself as a piPDU with protocol 2 and 16 outlets`, async (t) => {
    const { controller } = await setup();
    t.teardown(() => controller.close());
    const info = await controller.describe();
    t.is(info.protocolVersion, 2);
    t.is(info.outletCount, 16);
    t.regex(info.firmwareVersion, /^\d+\.\d+\.\d+$/);
  });

  test(`[${name}] switching an outlet changes exactly that relay and reads back`, async (t) => {
    const { fx, controller } = await setup();
    t.teardown(() => controller.close());
    t.deepEqual((await controller.setRelay(3, true)).map(Number).join(""), "0010000000000000");
    await controller.setRelay(16, true);
    t.is(await fx.relayPins(), (1 << 2) | (1 << 15));
    await controller.setRelay(3, false);
    t.is(await fx.relayPins(), 1 << 15);
  });

  test(`[${name}] a switch after a confirmed write is two transactions: the frame, then one read of its receipt with the relays`, async (t) => {
    const { fx, client, controller } = await setup();
    t.teardown(() => controller.close());
    await controller.setRelay(1, true); // learns the write sequence
    const before = client.counters.transactions;
    const states = await controller.setRelay(9, true);
    t.is(client.counters.transactions - before, 2);
    t.is(states.map(Number).join(""), "1000000010000000");
    t.is(await fx.relayPins(), (1 << 0) | (1 << 8));
    const off = client.counters.transactions;
    await controller.setRelay(1, false);
    t.is(client.counters.transactions - off, 2);
    t.is(await fx.relayPins(), 1 << 8);
  });

  test(`[${name}] a loaded outlet reports its current; an off outlet reports none`, async (t) => {
    const { fx, controller } = await setup();
    t.teardown(() => controller.close());
    await fx.setLoad(2, 1.5);
    await fx.setLoad(5, 3);
    await controller.setRelay(2, true);
    await fx.settle();
    const amps = await controller.readCurrents();
    t.true(Math.abs((amps[1] ?? 0) - 1.5) < 0.05, `outlet 2 reads ${amps[1]} A`);
    t.is(amps[4], 0, "outlet 5 is off");
  });

  test(`[${name}] writes to read-only registers are refused and change nothing`, async (t) => {
    const { fx, client, controller } = await setup();
    t.teardown(() => controller.close());
    const error = await t.throwsAsync(client.writeU16(Reg.RELAY_STATE, 0xffff));
    t.true(error instanceof LinkError);
    t.regex(error.message, /READ_ONLY/);
    t.is(await fx.relayPins(), 0);
    await t.throwsAsync(client.write(Reg.IRMS, Uint8Array.of(1, 2)));
  });

  for (const fault of ["corrupt", "nack", "zero", "short"] as const) {
    test(`[${name}] one ${fault} transaction is retried and the switch still lands exactly once`, async (t) => {
      const { fx, client, controller } = await setup();
      t.teardown(() => controller.close());
      await fx.inject(fault);
      await controller.setRelay(7, true);
      t.is(await fx.relayPins(), 1 << 6);
      t.true(client.counters.retries >= 1);
      await fx.inject(fault);
      t.is((await controller.readRelays())[6], true);
    });
  }

  // Only the host-built firmware has resets (the simulator stands for a Mega that never resets).
  if (name === "firmware")
    test(`[${name}] a firmware reset between two writes is noticed; relays are restored and the next switch lands once`, async (t) => {
      const { fx, client, controller } = await setup();
      t.teardown(() => controller.close());
      if (!fx.watchdogReset) throw new Error("fixture without a reset");
      await controller.setRelay(2, true);
      await controller.setRelay(5, true);
      await fx.watchdogReset(); // WRITE_SEQ starts again; the relays come back as they were
      t.is(await fx.relayPins(), (1 << 1) | (1 << 4));
      await controller.setRelay(9, true);
      t.is(await fx.relayPins(), (1 << 1) | (1 << 4) | (1 << 8));
      t.true(client.counters.retries >= 1, "the stale write sequence was noticed and the write retried");
    });

  test(`[${name}] a link that keeps failing ends in an error, never a guessed state`, async (t) => {
    const { fx, controller } = await setup();
    t.teardown(() => controller.close());
    await fx.inject(...Array<Fault>(12).fill("nack"));
    const error = await t.throwsAsync(controller.setRelay(1, true));
    t.true(error instanceof HardwareError);
    t.is(await fx.relayPins(), 0, "nothing switched");
  });

  test(`[${name}] with 5 % of transactions faulty, every state read back matches the relays`, async (t) => {
    const { fx, client, controller } = await setup();
    t.teardown(() => controller.close());
    fx.faultRate(0.05);
    let expected = 0;
    let mismatches = 0;
    for (let i = 0; i < 150; i++) {
      const outlet = (i % 16) + 1;
      const on = (i * 7) % 3 !== 0;
      try {
        const states = await controller.setRelay(outlet, on);
        expected = on ? expected | (1 << (outlet - 1)) : expected & ~(1 << (outlet - 1));
        const reported = states.reduce((m, s, j) => (s ? m | (1 << j) : m), 0);
        if (reported !== (await fx.relayPins())) mismatches++;
      } catch {
        expected = await fx.relayPins(); // a failed change: the truth is whatever the relays are
      }
      const read = await controller.readRelays().catch(() => null);
      if (read && read.reduce((m, s, j) => (s ? m | (1 << j) : m), 0) !== (await fx.relayPins()))
        mismatches++;
    }
    fx.faultRate(0);
    t.is(mismatches, 0);
    t.is(await fx.relayPins(), expected);
    t.true(client.counters.retries > 0, "faults really happened");
  });
}

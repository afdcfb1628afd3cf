// The register driver against firmware from before write receipts (protocol 1): it notices the protocol when
// it identifies the device and sets the read pointer itself, so switches still land and verify.
import test from "ava";
import { RegisterClient } from "../../pdu-agent/hardware/register-client.ts";
import { RegisterOutletController } from "../../pdu-agent/hardware/register-outlet-controller.ts";
import { SimBus } from "../../pdu-agent/hardware/sim/sim-bus.ts";
import { SimFirmware } from "../../pdu-agent/hardware/sim/sim-firmware.ts";

function setup(protocolVersion: 1 | 2) {
  const firmware = new SimFirmware({
    address: 0x42,
    outletCount: 16,
    loads: [],
    initialRelays: 0,
    voltage: 230,
    powerFactor: 1,
    protocolVersion,
  });
  const bus = new SimBus(() => 0.5);
  bus.attach(firmware);
  const client = new RegisterClient(bus, 0x42, { sleep: () => Promise.resolve() });
  const controller = new RegisterOutletController(client, "simulator", () => bus.close());
  return { firmware, client, controller };
}

test("against protocol 1 firmware a switch reads its receipt through a pointer: three transactions, and it lands", async (t) => {
  const { firmware, client, controller } = setup(1);
  t.is((await controller.describe()).protocolVersion, 1);
  await controller.setRelay(2, true);
  const before = client.counters.transactions;
  const states = await controller.setRelay(5, true);
  t.is(client.counters.transactions - before, 3);
  t.is(states.map(Number).join(""), "0100100000000000");
  t.is(firmware.relayMask, 0b10010);
  t.is(client.counters.retries, 0);
});

test("against protocol 2 firmware the same switch is two transactions", async (t) => {
  const { firmware, client, controller } = setup(2);
  t.is((await controller.describe()).protocolVersion, 2);
  await controller.setRelay(2, true);
  const before = client.counters.transactions;
  await controller.setRelay(5, true);
  t.is(client.counters.transactions - before, 2);
  t.is(firmware.relayMask, 0b10010);
});

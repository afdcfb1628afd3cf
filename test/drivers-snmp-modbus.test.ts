// The SNMP and Modbus drivers against real servers: snmpd (v1 community and v3 user with SHA + AES) and
// pymodbus. Each switch is checked on the device's own record and read back through the driver.
import test from "ava";
import { DriverController } from "../pdu-agent/drivers/driver-controller.ts";
import { ModbusTcp } from "../pdu-agent/drivers/modbustcp.ts";
import { Snmp } from "../pdu-agent/drivers/snmp.ts";
import { hasPymodbus, hasSnmpd, startModbusServer, startSnmpd } from "./helpers/protocol-servers.ts";
import { driverOptions } from "./helpers/driver-options.ts";

function controller(io: Snmp | ModbusTcp, driver: string): DriverController {
  return new DriverController(io, { driver, address: "test", outletCount: 8, retries: 2, retryDelay: 0 });
}

(hasSnmpd ? test : test.skip)(
  "snmpv1 with oid and * switches the outlet on the agent, reads the column back, and reads current_oid",
  async (t) => {
    const snmpd = await startSnmpd(t);
    const io = new Snmp(
      driverOptions(`127.0.0.1:${snmpd.port}`, {
        driver: "snmpv1",
        community: "private",
        oid: ".1.3.6.1.4.1.318.1.1.4.4.2.1.3.*",
        current_oid: ".1.3.6.1.4.1.318.1.1.26.9.4.3.1.6.*",
        current_scale: 0.1,
        onsetting: 1,
        offsetting: "2",
      }),
      "snmpv1",
      8,
    );
    const c = controller(io, "snmpv1");
    t.teardown(() => c.close());
    t.deepEqual(await c.setRelay(6, true), [false, false, false, false, false, true, false, false]);
    t.deepEqual(await c.setRelay(6, false), new Array(8).fill(false));
    t.deepEqual(snmpd.sets(), ["6 1", "6 2"]);
    const currents = await c.readCurrents();
    t.deepEqual(
      currents.map((a) => Math.round(a * 10) / 10),
      [0.5, 1.2, 0, 0, 0, 0, 0, 0],
    );
  },
);

(hasSnmpd ? test : test.skip)(
  "snmpv3 (authPriv, SHA + AES) with PowerNet-MIB sPDUOutletCtl switches and reads back",
  async (t) => {
    const snmpd = await startSnmpd(t);
    const io = new Snmp(
      driverOptions(`127.0.0.1:${snmpd.port}`, {
        driver: "snmpv3",
        username: "pipdu",
        authpassphrase: "pipdu-auth-pass",
        privpassphrase: "pipdu-priv-pass",
        auth_protocol: "usmHMACSHAAuthProtocol",
        priv_protocol: "usmAesCfb128Protocol",
        mib: "PowerNet-MIB",
        controlpoint: "sPDUOutletCtl",
        onsetting: "1",
        offsetting: "2",
      }),
      "snmpv3",
      8,
    );
    const c = controller(io, "snmpv3");
    t.teardown(() => c.close());
    const states = await c.setRelay(2, true);
    t.true(states[1]);
    t.deepEqual(snmpd.sets(), ["2 1"]);
    t.deepEqual(await c.readRelays(), [false, true, false, false, false, false, false, false]);
  },
);

test("an SNMP MIB object piPDU does not know is a configuration problem naming the PDU", (t) => {
  t.throws(
    () =>
      new Snmp(
        driverOptions("10.0.0.9", {
          driver: "snmpv1",
          community: "private",
          mib: "OTHER-MIB",
          controlpoint: "outletCtl",
          onsetting: 1,
          offsetting: 2,
        }),
        "snmpv1",
      ),
    { message: /^PDU "10.0.0.9" \(snmpv1\): "OTHER-MIB::outletCtl" is not a MIB object piPDU knows/ },
  );
});

(hasPymodbus ? test : test.skip)(
  "modbustcp writes coil n for outlet n on the given unit and reads the coils back",
  async (t) => {
    const board = await startModbusServer(t);
    const io = new ModbusTcp(
      driverOptions("127.0.0.1", { driver: "modbustcp", port: board.port, slave: 1 }),
      8,
    );
    const c = controller(io, "modbustcp");
    t.teardown(() => c.close());
    t.deepEqual(await c.setRelay(8, true), [false, false, false, false, false, false, false, true]);
    t.deepEqual(await c.setRelay(1, true), [true, false, false, false, false, false, false, true]);
    t.deepEqual(board.writes(), ["coil 8 1", "coil 1 1"]);
  },
);

test("modbustcp to a closed port fails with where it tried, after `retries` attempts", async (t) => {
  const io = new ModbusTcp(driverOptions("127.0.0.1", { driver: "modbustcp", port: 1 }), 8);
  const c = controller(io, "modbustcp");
  t.teardown(() => c.close());
  await t.throwsAsync(c.setRelay(1, true), { message: /Modbus 127\.0\.0\.1:1 unit 1: .*\(2 attempts\)$/ });
});

(hasPymodbus ? test : test.skip)("modbustcp with coil_offset -1 makes outlet 1 coil address 0", async (t) => {
  const board = await startModbusServer(t);
  const io = new ModbusTcp(
    driverOptions("127.0.0.1", { driver: "modbustcp", port: board.port, unit: 1, coil_offset: -1 }),
    4,
  );
  const c = new DriverController(io, {
    driver: "modbustcp",
    address: "test",
    outletCount: 4,
    retries: 1,
    retryDelay: 0,
  });
  t.teardown(() => c.close());
  t.deepEqual(await c.setRelay(1, true), [true, false, false, false]);
  t.deepEqual(board.writes(), ["coil 0 1"]);
});

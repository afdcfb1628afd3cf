// Device drivers against devices that answer with garbage: the process keeps running, the command fails
// with a reason, and nothing is switched or published on the strength of a bad answer.
import dgram from "node:dgram";
import test from "ava";
import { Snmp } from "../pdu-agent/drivers/snmp.ts";
import { driverOptions } from "./helpers/driver-options.ts";

/** A UDP "agent" that answers every request with bytes that are not SNMP. */
async function garbageUdp(t: { teardown: (f: () => void) => void }): Promise<number> {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (_msg, from) =>
    socket.send(Buffer.from("\x30\x03\x02\x01garbage"), from.port, from.address),
  );
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  t.teardown(() => socket.close());
  return socket.address().port;
}

test("an SNMP agent answering with bytes that are not SNMP fails the read and does not crash the process", async (t) => {
  const port = await garbageUdp(t);
  const io = new Snmp(
    driverOptions(`127.0.0.1:${port}`, {
      driver: "snmpv1",
      community: "private",
      oid: ".1.3.6.1.2.1.99.*",
      onsetting: 1,
      offsetting: 2,
    }),
    "snmpv1",
    2,
  );
  t.teardown(() => void io.close());
  await t.throwsAsync(io.read(), { message: /^SNMP get: .*answer is not SNMP/ });
  await t.throwsAsync(io.switch(1, true), { message: /^SNMP set .*answer is not SNMP/ });
});

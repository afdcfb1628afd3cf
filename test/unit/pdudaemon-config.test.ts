// Reading PDUDaemon's configuration: ids from hostnames, retries and delays, aliases, and entries that cannot
// run reported by name while the others are kept.
import test from "ava";
import { parsePdudaemonConfig, pduIdFromHostname } from "../../config/pdudaemon-config.ts";

test("a hostname becomes a PDU id: lower case, anything outside a-z 0-9 _ - replaced by -", (t) => {
  t.is(pduIdFromHostname("127.0.0.1"), "127-0-0-1");
  t.is(pduIdFromHostname("PDU05.lab"), "pdu05-lab");
  t.is(pduIdFromHostname("apc_7952"), "apc_7952");
  t.is(pduIdFromHostname("10.0.0.5:1161"), "10-0-0-5-1161");
});

test("retries and retrydelay default to PDUDaemon's 5 and 5; quoted numbers count as upstream reads them", (t) => {
  const { pdus, problems } = parsePdudaemonConfig({
    pdus: {
      a: { driver: "localcmdline", cmd_on: "true" },
      b: { driver: "localcmdline", cmd_on: "true", retries: "2", retrydelay: 0.5 },
    },
  });
  t.deepEqual(problems, []);
  t.deepEqual(
    pdus.map((p) => [p.pduId, p.retries, p.retryDelay]),
    [
      ["a", 5, 5],
      ["b", 2, 0.5],
    ],
  );
});

test("aliases point at the derived PDU id with the port as a string", (t) => {
  const { aliases } = parsePdudaemonConfig({
    pdus: { "PDU05.lab": { driver: "localcmdline" } },
    aliases: { dut1: { hostname: "PDU05.lab", port: 3 }, dut2: { hostname: "PDU05.lab", port: "08" } },
  });
  t.deepEqual(aliases, {
    dut1: { hostname: "pdu05-lab", port: "3" },
    dut2: { hostname: "pdu05-lab", port: "08" },
  });
});

test("a bad entry is reported by its hostname and the other PDUs are kept", (t) => {
  const { pdus, problems } = parsePdudaemonConfig({
    pdus: {
      good: { driver: "snmpv1" },
      nodriver: { community: "x" },
      badretries: { driver: "snmpv1", retries: -1 },
      "PDU05.lab": { driver: "localcmdline" },
      "pdu05-lab": { driver: "localcmdline" },
    },
    aliases: { broken: { hostname: "good" } },
  });
  t.deepEqual(
    pdus.map((p) => p.hostname),
    ["good", "PDU05.lab"],
  );
  t.deepEqual(problems, [
    'PDU "nodriver": "driver" must be a driver name such as "snmpv1"',
    'PDU "badretries": "retries" must be a whole number of attempts from 1 to 100',
    'PDU "pdu05-lab": its id "pdu05-lab" is already taken by "PDU05.lab"; rename one of them',
    'alias "broken": must be {"hostname":<a PDU>,"port":<an outlet>}',
  ]);
});

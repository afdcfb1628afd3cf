// Reading PDUDaemon's configuration: ids from hostnames, retries and delays, aliases, and entries that cannot
// run reported by name while the others are kept.
import test from "ava";
import { ConfigError, loadConfig } from "../../config/load.ts";
import { parsePdudaemonConfig, pduIdFromHostname } from "../../config/pdudaemon-config.ts";

test("a hostname becomes a PDU id: lower case, anything outside a-z 0-9 _ - replaced by -", (t) => {
  t.is(pduIdFromHostname("127.0.0.1"), "127-0-0-1");
  t.is(pduIdFromHostname("PDU05.lab"), "pdu05-lab");
  t.is(pduIdFromHostname("apc_7952"), "apc_7952");
  t.is(pduIdFromHostname("10.0.0.5:1161"), "10-0-0-5-1161");
  // The id names the PDU's state directory: no path can be made of it.
  t.is(pduIdFromHostname("../../etc/passwd"), "------etc-passwd");
  t.is(pduIdFromHostname("pipdu/#/+"), "pipdu----");
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

test("an alias named __proto__ is an alias like any other", (t) => {
  const { aliases, problems } = parsePdudaemonConfig(
    JSON.parse('{"pdus":{},"aliases":{"__proto__":{"hostname":"pdu1","port":1}}}') as Record<string, unknown>,
  );
  t.deepEqual(problems, []);
  t.deepEqual(Object.entries(aliases), [["__proto__", { hostname: "pdu1", port: "1" }]]);
});

test("a wrong pdudaemon.pdus is reported without its value, which carries communities and pass phrases", (t) => {
  for (const value of ['[{"community":"s3cret"}]', '{"a":{"community":"s3cret"}', '"s3cret"']) {
    const err = t.throws(() => loadConfig({ argv: [], env: { PIPDU_PDUDAEMON_PDUS: value } }), {
      instanceOf: ConfigError,
    });
    t.is(
      err.message,
      'pdudaemon.pdus (PIPDU_PDUDAEMON_PDUS) = "***": must be an object such as {"10.0.0.5":{"driver":"snmpv1",…}}',
    );
  }
});

test("entries of the wrong type, an empty hostname and a hostname too long for an id are each named; the rest run", (t) => {
  const { pdus, problems } = parsePdudaemonConfig({
    pdus: {
      "": { driver: "localcmdline" },
      ["x".repeat(65)]: { driver: "localcmdline" },
      list: ["localcmdline"],
      text: "localcmdline",
      nulled: null,
      numdriver: { driver: 7 },
      boolretries: { driver: "localcmdline", retries: true },
      exponent: { driver: "localcmdline", retrydelay: "1e3" },
      "PDU.1": { driver: "localcmdline" },
      "pdu-1": { driver: "localcmdline" },
    },
    aliases: { a: "pdu-1", b: { hostname: 5, port: 1 }, c: { hostname: "pdu-1", port: -1 } },
  });
  t.deepEqual(
    pdus.map((p) => p.pduId),
    ["pdu-1"],
  );
  t.deepEqual(problems, [
    'PDU "": a hostname must be 1 to 64 characters',
    `PDU "${"x".repeat(65)}": a hostname must be 1 to 64 characters`,
    'PDU "list": must be an object with a "driver"',
    'PDU "text": must be an object with a "driver"',
    'PDU "nulled": must be an object with a "driver"',
    'PDU "numdriver": "driver" must be a driver name such as "snmpv1"',
    'PDU "boolretries": "retries" must be a whole number of attempts from 1 to 100',
    'PDU "exponent": "retrydelay" must be seconds from 0 to 600',
    'PDU "pdu-1": its id "pdu-1" is already taken by "PDU.1"; rename one of them',
    'alias "a": must be {"hostname":<a PDU>,"port":<an outlet>}',
    'alias "b": must be {"hostname":<a PDU>,"port":<an outlet>}',
    'alias "c": must be {"hostname":<a PDU>,"port":<an outlet>}',
  ]);
  t.deepEqual(parsePdudaemonConfig({ pdus: [], aliases: 3 }).problems, [
    'pdus: must be an object such as {"pdu1":{"driver":"localcmdline",…}}',
    'aliases: must be an object such as {"dut1":{"hostname":"pdu1","port":3}}',
  ]);
});

test("a hostname whose id is the responses' topic level is refused, so no PDU publishes under <base>/response/", (t) => {
  const { pdus, problems } = parsePdudaemonConfig({
    pdus: { Response: { driver: "localcmdline" }, other: { driver: "localcmdline" } },
  });
  t.deepEqual(
    pdus.map((p) => p.pduId),
    ["other"],
  );
  t.deepEqual(problems, [
    'PDU "Response": its id "response" is the topic level of MQTT responses; rename it',
  ]);
});

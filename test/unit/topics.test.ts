import test from "ava";
import { messageKindOf, type MessageKind } from "../../protocol/messages.ts";
import {
  Topics,
  isValidBase,
  isValidPduId,
  parseOutletNumber,
  type ParsedTopic,
} from "../../protocol/topics.ts";

const topics = new Topics("pipdu");

test("topic builders spell the documented contract", (t) => {
  t.is(topics.availability("rack1"), "pipdu/rack1/availability");
  t.is(topics.outlet("rack1", 3, "state"), "pipdu/rack1/outlet/3/state");
  t.is(topics.set("rack1", 3), "pipdu/rack1/outlet/3/set");
  t.is(topics.result("rack1"), "pipdu/rack1/result");
  t.is(topics.telemetry("rack1"), "pipdu/rack1/telemetry");
  t.is(topics.info("rack1"), "pipdu/rack1/info");
  t.is(topics.setFilter("rack1"), "pipdu/rack1/outlet/+/set");
});

test("parse reads back every topic the builders make, and each maps to its message kind", (t) => {
  const cases: [string, ParsedTopic, MessageKind | null][] = [
    [topics.availability("rack1"), { pdu: "rack1", kind: "availability" }, "availability"],
    [topics.info("rack1"), { pdu: "rack1", kind: "info" }, "info"],
    [topics.result("rack1"), { pdu: "rack1", kind: "result" }, "result"],
    [topics.telemetry("rack1"), { pdu: "rack1", kind: "telemetry" }, "telemetry"],
    [topics.diagnostics("rack1"), { pdu: "rack1", kind: "diagnostics" }, "diagnostics"],
    [topics.pending("rack1"), { pdu: "rack1", kind: "pending" }, "pending"],
    [topics.alarm("rack1"), { pdu: "rack1", kind: "alarm" }, "alarm"],
    [topics.pduSet("rack1"), { pdu: "rack1", kind: "pdu-set" }, null],
    [topics.set("rack1", 12), { pdu: "rack1", kind: "set", outlet: "12" }, null],
    [topics.fault("rack1", 3), { pdu: "rack1", kind: "fault", outlet: "3" }, "fault"],
    [
      topics.powerOnBehavior("rack1", 3),
      { pdu: "rack1", kind: "power_on_behavior", outlet: "3" },
      "power_on_behavior",
    ],
    [
      topics.powerOnBehaviorSet("rack1", 3),
      { pdu: "rack1", kind: "power_on_behavior-set", outlet: "3" },
      null,
    ],
  ];
  for (const metric of ["state", "power", "current", "energy"] as const)
    cases.push([
      topics.outlet("rack1", 2, metric),
      { pdu: "rack1", kind: "metric", outlet: "2", metric },
      metric,
    ]);
  for (const metric of ["power", "current", "energy"] as const)
    cases.push([topics.total("rack1", metric), { pdu: "rack1", kind: "total", metric }, `total/${metric}`]);
  for (const [topic, parsed, kind] of cases) {
    t.deepEqual(topics.parse(topic), parsed, topic);
    t.is(messageKindOf(parsed), kind, topic);
  }
});

test("the outlet level is kept raw, even empty, so the agent answers a command on …/outlet//set", (t) => {
  t.deepEqual(topics.parse("pipdu/rack1/outlet//set"), { pdu: "rack1", kind: "set", outlet: "" });
  t.deepEqual(topics.parse("pipdu/rack1/outlet/0x1/set"), { pdu: "rack1", kind: "set", outlet: "0x1" });
});

test("the response level is not a PDU: <base>/response/... parses as no PDU topic", (t) => {
  t.is(topics.response("pipdu-gateway-1a2b", "result"), "pipdu/response/pipdu-gateway-1a2b/result");
  t.is(topics.responseFilter("pipdu-gateway-1a2b"), "pipdu/response/pipdu-gateway-1a2b/#");
  t.is(topics.parse("pipdu/response/info"), null);
  t.false(isValidPduId("response"));
});

test("parse refuses topics outside the tree or with bad ids", (t) => {
  for (const topic of [
    "other/rack1/availability",
    "pipdu/Rack1/availability",
    "pipdu/rack1/outlet/3",
    "pipdu/rack1/outlet/3/set/x",
    "pipdu//availability",
    "pipdu/rack1/nothing",
  ]) {
    t.is(topics.parse(topic), null, topic);
  }
});

test("a multi-level base works", (t) => {
  const lab = new Topics("lab/power");
  t.deepEqual(lab.parse(lab.set("pdu7", 1)), { pdu: "pdu7", kind: "set", outlet: "1" });
});

test("outlet numbers are 1-based decimals within the outlet count", (t) => {
  t.is(parseOutletNumber("1", 16), 1);
  t.is(parseOutletNumber("016", 16), 16);
  t.is(parseOutletNumber("17", 16), null);
  t.is(parseOutletNumber("0", 16), null);
  t.is(parseOutletNumber("0x3", 16), null);
});

test("ids and bases are validated", (t) => {
  t.true(isValidPduId("rack-1_a"));
  t.false(isValidPduId("Rack 1"));
  t.false(isValidPduId("a/b"));
  t.true(isValidBase("lab/pipdu"));
  t.false(isValidBase("pipdu/#"));
  t.false(isValidBase("a//b"));
});

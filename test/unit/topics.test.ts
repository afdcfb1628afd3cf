import test from "ava";
import { Topics, isValidBase, isValidPduId, parseOutletNumber } from "../../protocol/topics.ts";

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

test("parse reads back every topic the builders make", (t) => {
  t.deepEqual(topics.parse("pipdu/rack1/outlet/12/set"), { pdu: "rack1", kind: "set", outlet: "12" });
  t.deepEqual(topics.parse("pipdu/rack1/outlet/2/power"), {
    pdu: "rack1",
    kind: "metric",
    outlet: "2",
    metric: "power",
  });
  t.deepEqual(topics.parse("pipdu/rack1/availability"), { pdu: "rack1", kind: "availability" });
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

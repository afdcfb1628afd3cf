// Discovery payloads as data: golden copies, Home Assistant's rules, names and ids.
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import {
  buildDiscovery,
  deviceObjectId,
  discoveryTopic,
  entityLabel,
  withRemovals,
  type DiscoveryInput,
} from "../homeassistant/discovery-payload.ts";
import { checkDiscoveryMessage } from "./helpers/discovery-rules.ts";
import { Topics } from "../protocol/topics.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures/homeassistant");

function input(overrides: Partial<DiscoveryInput> = {}): DiscoveryInput {
  return {
    topics: new Topics("pipdu"),
    pduId: "pdu1",
    deviceName: "piPDU",
    outlets: Array.from({ length: 16 }, (_, i) => ({
      number: i + 1,
      name: `Outlet ${i + 1}`,
      protected: false,
    })),
    firmwareVersion: "1.0.0",
    hardwareKind: "simulator",
    agentVersion: "0.1.0",
    voltageSource: "configured",
    coldStartPolicy: true,
    ...overrides,
  };
}

const rackA = input({
  pduId: "rack-a",
  deviceName: "Rack A",
  outlets: [
    { number: 1, name: "Core switch", protected: true },
    { number: 2, name: "Rack A router", protected: false },
    { number: 3, name: "Rack A", protected: false },
    { number: 4, name: "Outlet 4", protected: false },
  ],
  firmwareVersion: "1.2.3",
  hardwareKind: "arduino-mega",
  configurationUrl: "http://pipdu-rack-a.local:8080/",
});

/** Compare with the golden copy; PIPDU_UPDATE_GOLDEN=1 rewrites it (review the diff). */
function golden(t: import("ava").ExecutionContext, name: string, value: unknown): void {
  const file = path.join(FIXTURES, name);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env["PIPDU_UPDATE_GOLDEN"] === "1") fs.writeFileSync(file, text);
  t.is(text, fs.readFileSync(file, "utf8"));
}

test("a default 16-outlet PDU matches its golden discovery payload", (t) => {
  golden(t, "pdu1-default.json", {
    topic: discoveryTopic("homeassistant", new Topics("pipdu"), "pdu1"),
    payload: buildDiscovery(input()),
  });
});

test("named outlets, a protected outlet and a web page match their golden discovery payload", (t) => {
  golden(t, "rack-a-named.json", {
    topic: discoveryTopic("homeassistant", rackA.topics, "rack-a"),
    payload: buildDiscovery(rackA),
  });
});

test("removed components are sent once as {p: platform}, the golden way", (t) => {
  const three = buildDiscovery({ ...rackA, outlets: rackA.outlets.slice(0, 3) });
  golden(
    t,
    "rack-a-outlet-4-removed.json",
    withRemovals(three, { outlet_4: "switch", outlet_4_power: "sensor" }).components,
  );
});

test("every payload passes Home Assistant's rules, also with abbreviations left to HA", (t) => {
  for (const i of [input(), rackA, input({ coldStartPolicy: false, voltageSource: "measured" })]) {
    const topic = discoveryTopic("homeassistant", i.topics, i.pduId);
    t.deepEqual(
      checkDiscoveryMessage(topic, JSON.stringify(buildDiscovery(i)), true, { prefix: "homeassistant" }),
      [],
    );
  }
});

test("each outlet has a switch, power, current, energy, power-cycle button and power-on behaviour select", (t) => {
  const { components } = buildDiscovery(input());
  t.is(Object.keys(components).length, 16 * 6 + 7);
  t.like(components["outlet_3"], {
    p: "switch",
    device_class: "outlet",
    command_topic: "~/outlet/3/set",
    state_topic: "~/outlet/3/state",
    "~": "pipdu/pdu1",
  });
  t.like(components["outlet_3_power"], {
    p: "sensor",
    device_class: "power",
    unit_of_measurement: "W",
    state_class: "measurement",
  });
  t.like(components["outlet_3_current"], {
    p: "sensor",
    device_class: "current",
    unit_of_measurement: "A",
    state_class: "measurement",
  });
  t.like(components["outlet_3_energy"], {
    p: "sensor",
    device_class: "energy",
    unit_of_measurement: "kWh",
    state_class: "total_increasing",
  });
  t.like(components["outlet_3_power_cycle"], {
    p: "button",
    command_topic: "~/outlet/3/set",
    payload_press: "CYCLE",
  });
  t.like(components["outlet_3_power_on_behavior"], {
    p: "select",
    entity_category: "config",
    command_topic: "~/outlet/3/power_on_behavior/set",
    state_topic: "~/outlet/3/power_on_behavior",
    options: ["off", "on", "last"],
  });
  t.like(components["mains_voltage"], {
    name: "Mains voltage (configured)",
    device_class: "voltage",
    unit_of_measurement: "V",
  });
  t.like(components["total_energy"], { state_topic: "~/total/energy", state_class: "total_increasing" });
});

test("a protected outlet gets no power-cycle button and no power-on behaviour off; hardware without a cold-start policy gets no select", (t) => {
  t.false("outlet_1_power_cycle" in buildDiscovery(rackA).components);
  t.true("outlet_2_power_cycle" in buildDiscovery(rackA).components);
  t.like(buildDiscovery(rackA).components["outlet_1_power_on_behavior"], { options: ["on", "last"] });
  t.like(buildDiscovery(rackA).components["outlet_2_power_on_behavior"], { options: ["off", "on", "last"] });
  t.false(
    Object.keys(buildDiscovery(input({ coldStartPolicy: false })).components).some((k) =>
      k.endsWith("power_on_behavior"),
    ),
  );
});

test("entity names never repeat the device name", (t) => {
  t.is(entityLabel("Rack A router", "Rack A", 2), "router");
  t.is(entityLabel("Rack A", "Rack A", 3), "Outlet 3");
  t.is(entityLabel("rack a 7", "Rack A", 7), "Outlet 7");
  t.is(entityLabel("NAS", "Rack A", 5), "NAS");
  const names = Object.values(buildDiscovery(rackA).components).map((c) => c["name"]);
  t.false(names.some((n) => typeof n === "string" && n.toLowerCase().startsWith("rack a")));
});

test("unique ids and default entity ids are stable, per PDU and per base topic", (t) => {
  const a = buildDiscovery(input());
  t.is(a.components["outlet_3"]?.["unique_id"], "pipdu_pdu1_outlet_3");
  t.is(a.components["outlet_3"]?.["default_entity_id"], "switch.pipdu_pdu1_outlet_3");
  t.deepEqual(
    buildDiscovery(input({ outlets: input().outlets.map((o) => ({ ...o, name: `Renamed ${o.number}` })) }))
      .components["outlet_3"]?.["unique_id"],
    "pipdu_pdu1_outlet_3",
  );
  const uniqueIds = new Map<string, string>();
  const payloads = [input(), input({ pduId: "pdu2" }), input({ topics: new Topics("lab/pipdu") })];
  const topics = payloads.map((i) => discoveryTopic("homeassistant", i.topics, i.pduId));
  t.deepEqual(topics, [
    "homeassistant/device/pipdu_pdu1/config",
    "homeassistant/device/pipdu_pdu2/config",
    "homeassistant/device/lab_pipdu_pdu1/config",
  ]);
  payloads.forEach((i, k) =>
    t.deepEqual(
      checkDiscoveryMessage(topics[k] ?? "", JSON.stringify(buildDiscovery(i)), true, {
        prefix: "homeassistant",
        uniqueIds,
      }),
      [],
    ),
  );
  t.is(deviceObjectId(new Topics("lab/pipdu"), "pdu1"), "lab_pipdu_pdu1");
});

test("the rule checker catches the mistakes the reference lists", (t) => {
  const topic = "homeassistant/device/pipdu_pdu1/config";
  type Payload = {
    device: Record<string, unknown>;
    origin?: Record<string, unknown>;
    components: Record<string, Record<string, unknown>>;
  } & Record<string, unknown>;
  const check = (mutate: (p: Payload) => void, retained = true): string[] => {
    const p = JSON.parse(JSON.stringify(buildDiscovery(input()))) as Payload;
    mutate(p);
    return checkDiscoveryMessage(topic, JSON.stringify(p), retained, { prefix: "homeassistant" });
  };
  /** Set one field of one component. */
  const field =
    (key: string, name: string, value: unknown) =>
    (p: Payload): void => {
      const c = Object.entries(p.components[key] ?? {}).filter(([k]) => k !== name);
      p.components[key] = Object.fromEntries(value === undefined ? c : [...c, [name, value]]);
    };
  const has = (problems: string[], text: string): boolean => problems.some((p) => p.includes(text));
  t.true(
    has(
      check(() => undefined, false),
      "retained",
    ),
  );
  t.true(
    has(
      check(field("outlet_1_energy", "state_class", "measurement")),
      "state_class measurement does not suit device_class energy",
    ),
  );
  t.true(has(check(field("outlet_1_power", "unit_of_measurement", "Watt")), 'unit "Watt" is not valid'));
  t.true(has(check(field("outlet_1_energy", "unit_of_measurement", "kwh")), 'unit "kwh" is not valid'));
  t.true(
    has(
      check((p) => (p["~"] = "pipdu/pdu1")),
      'root key "~"',
    ),
  );
  t.true(
    has(
      check((p) => (p.device["colour"] = "red")),
      'device key "colour"',
    ),
  );
  t.true(
    has(
      check((p) => (p.origin = { ...p.origin, website: "x" })),
      'origin key "website"',
    ),
  );
  t.true(
    has(
      check(field("outlet_1_power", "entity_category", "config")),
      "sensor cannot have entity_category config",
    ),
  );
  t.true(has(check(field("outlet_1_power", "unit_of_meas_", "W")), 'key "unit_of_meas_"'));
  t.true(has(check(field("outlet_1", "retain", true)), "must not be retained"));
  t.true(has(check(field("outlet_1", "unique_id", undefined)), "unique_id is required"));
  t.true(
    has(
      check((p) => (p.components["outlet 1"] = { ...p.components["outlet_1"] })),
      'component id "outlet 1"',
    ),
  );
  t.true(has(check(field("outlet_1", "name", "piPDU Outlet 1")), "repeats the device name"));
  t.true(
    has(
      check((p) => (p.device = { name: "x" })),
      "at least one identifier",
    ),
  );
  t.true(
    has(
      check((p) => delete p.origin),
      "origin is required",
    ),
  );
  t.true(has(check(field("outlet_1_power", "default_entity_id", "switch.x")), "default_entity_id"));
  t.deepEqual(
    check((p) => (p.components = { ...p.components, gone: { p: "switch" } })),
    [],
  );
  t.true(
    has(
      checkDiscoveryMessage("homeassistant/device/192.168.1.2/config", "{}", true, {
        prefix: "homeassistant",
      }),
      "not a device discovery topic",
    ),
  );
  t.deepEqual(checkDiscoveryMessage(topic, "", true, { prefix: "homeassistant" }), []);
});

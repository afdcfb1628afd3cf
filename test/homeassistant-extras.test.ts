// The Home Assistant extras shipped in homeassistant/: the dashboard card and the blueprint stay in step
// with the discovery payload (entity ids, platforms).
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import { parse, parseDocument } from "yaml";
import { buildDiscovery } from "../homeassistant/discovery-payload.ts";
import { dashboardCard } from "../homeassistant/dashboard-card.ts";
import { Topics } from "../protocol/topics.ts";

const DIR = path.join(import.meta.dirname, "../homeassistant");
const defaultPdu = buildDiscovery({
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
});

test("the shipped dashboard card is the generated card for the default PDU", (t) => {
  const shipped = fs.readFileSync(path.join(DIR, "dashboard-card.yaml"), "utf8");
  t.deepEqual(parse(shipped), parse(dashboardCard(defaultPdu, "piPDU")));
});

test("the dashboard card shows every outlet's state and power with entity ids the discovery suggests", (t) => {
  const card = parse(dashboardCard(defaultPdu, "piPDU")) as {
    cards: [{ entities: string[] }, { cards: { entity: string }[] }];
  };
  const ids = new Set(Object.values(defaultPdu.components).map((c) => c["default_entity_id"]));
  const shown = [...card.cards[0].entities, ...card.cards[1].cards.map((c) => c.entity)];
  t.true(shown.every((id) => ids.has(id)));
  for (let n = 1; n <= 16; n++) {
    t.true(shown.includes(`switch.pipdu_pdu1_outlet_${n}`));
    t.true(shown.includes(`sensor.pipdu_pdu1_outlet_${n}_power`));
  }
});

test("the ping blueprint is valid YAML that presses a piPDU power-cycle button", (t) => {
  const text = fs.readFileSync(path.join(DIR, "blueprints/power-cycle-on-ping-loss.yaml"), "utf8");
  const doc = parseDocument(text, {
    customTags: [{ tag: "!input", resolve: (name: string) => ({ input: name }) }],
  });
  t.deepEqual(doc.errors, []);
  const bp = doc.toJS() as {
    blueprint: { domain: string; input: Record<string, { selector: unknown }> };
    actions: unknown[];
  };
  t.is(bp.blueprint.domain, "automation");
  t.deepEqual(bp.blueprint.input["power_cycle_button"]?.selector, {
    entity: { filter: [{ domain: "button", integration: "mqtt" }] },
  });
  t.regex(text, /action: button\.press/);
  t.like(defaultPdu.components["outlet_1_power_cycle"], { p: "button", payload_press: "CYCLE" });
});

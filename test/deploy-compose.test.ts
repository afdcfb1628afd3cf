// docker-compose.yml and its hardware override, checked without Docker: structure, services, ports,
// and every PIPDU_* name against the configuration schema.
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import YAML from "yaml";
import { schema } from "../config/schema.ts";
import { ROOT } from "./helpers/system.ts";

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  devices?: string[];
  group_add?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  entrypoint?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

function load(file: string): Compose {
  return YAML.parse(fs.readFileSync(path.join(ROOT, file), "utf8"), { merge: true }) as Compose;
}
const compose = load("docker-compose.yml");
const hardware = load("deploy/compose/hardware.yml");
const envExample = fs.readFileSync(path.join(ROOT, "deploy/env/compose.env.example"), "utf8");

/** Every env name the configuration schema declares, in whichever section (panel, gateway, …) it lives. */
function schemaEnvNames(node: unknown, out = new Set<string>()): Set<string> {
  if (node !== null && typeof node === "object") {
    const record = node as Record<string, unknown>;
    if (typeof record["env"] === "string" && "doc" in record) out.add(record["env"]);
    for (const value of Object.values(record)) schemaEnvNames(value, out);
  }
  return out;
}
const known = schemaEnvNames(schema);

/** PIPDU_* names a file sets or interpolates (${PIPDU_X:-…}), except compose-only publish ports and the image tag. */
function pipduNames(text: string): string[] {
  const names = new Set([...text.matchAll(/\bPIPDU_[A-Z0-9_]+/g)].map((m) => m[0]));
  return [...names].filter(
    (n) => !/_PUBLISH_PORT$/.test(n) && n !== "PIPDU_IMAGE" && n !== "PIPDU_FLEET_SIZE",
  );
}

test("compose runs Mosquitto, the pdu-agent, the panel-agent and the gateway; Home Assistant and a fleet only under profiles", (t) => {
  const always = Object.entries(compose.services)
    .filter(([, s]) => s.profiles === undefined)
    .map(([name]) => name);
  t.deepEqual(always.sort(), ["gateway", "mosquitto", "mosquitto-init", "panel-agent", "pdu-agent"]);
  t.deepEqual(compose.services["homeassistant"]?.profiles, ["homeassistant"]);
  t.deepEqual(compose.services["sim-fleet"]?.profiles, ["fleet"]);
  t.deepEqual(compose.services["pdu-agent"]?.command, ["pdu"]);
  t.deepEqual(compose.services["panel-agent"]?.command, ["panel"]);
  t.deepEqual(compose.services["gateway"]?.command, ["gateway"]);
  t.deepEqual(compose.services["sim-fleet"]?.command, ["sim", "--pdus", "${PIPDU_FLEET_SIZE:-8}"]);
});

test("every piPDU service is built from the Dockerfile, waits for a healthy Mosquitto and uses its own broker user", (t) => {
  const users: Record<string, [string, string]> = {
    "pdu-agent": ["pipdu-agent", "AGENT_MQTT_PASSWORD"],
    "sim-fleet": ["pipdu-agent", "AGENT_MQTT_PASSWORD"],
    "panel-agent": ["pipdu-panel", "PANEL_MQTT_PASSWORD"],
    gateway: ["pipdu-gateway", "GATEWAY_MQTT_PASSWORD"],
  };
  for (const [name, [user, password]] of Object.entries(users)) {
    const service = compose.services[name];
    t.deepEqual(service?.build, { context: "." }, name);
    t.is(service?.depends_on?.["mosquitto"]?.condition, "service_healthy", name);
    t.is(service?.environment?.["PIPDU_MQTT_URL"], "mqtt://mosquitto:1883", name);
    t.is(service?.environment?.["PIPDU_MQTT_USERNAME"], user, name);
    t.regex(
      service?.environment?.["PIPDU_MQTT_PASSWORD"] ?? "",
      new RegExp(`^\\$\\{${password}:\\?`),
      `${name}: the password is required, never defaulted`,
    );
  }
});

test("Mosquitto uses the shipped configuration, keeps its data and the password file in volumes, and starts after its users exist", (t) => {
  const mosquitto = compose.services["mosquitto"];
  t.truthy(
    mosquitto?.volumes?.includes("./deploy/mosquitto/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro"),
  );
  t.truthy(mosquitto?.volumes?.includes("./deploy/mosquitto/pipdu.acl:/mosquitto/config/pipdu.acl:ro"));
  t.truthy(mosquitto?.volumes?.includes("mosquitto-data:/mosquitto/data"));
  t.truthy(mosquitto?.volumes?.includes("mosquitto-auth:/mosquitto/auth:ro"));
  t.is(mosquitto?.depends_on?.["mosquitto-init"]?.condition, "service_completed_successfully");
  t.deepEqual(mosquitto?.ports, [
    "${PIPDU_MQTT_PUBLISH_PORT:-1883}:1883",
    "${PIPDU_MQTT_WS_PUBLISH_PORT:-9001}:9001",
  ]);
  for (const volume of ["mosquitto-auth", "mosquitto-data", "pdu-state", "homeassistant-config"])
    t.true(volume in compose.volumes, volume);
});

test("the gateway publishes its web port 8080 and the PDUDaemon port 16421; the simulated panel page 8081", (t) => {
  const gateway = compose.services["gateway"];
  t.deepEqual(gateway?.ports, [
    "${PIPDU_HTTP_PUBLISH_PORT:-8080}:8080",
    "${PIPDU_PDUDAEMON_PUBLISH_PORT:-16421}:16421",
  ]);
  t.is(gateway?.environment?.["PIPDU_HTTP_PORT"], "8080");
  t.is(gateway?.environment?.["PIPDU_PDUDAEMON_PORT"], "16421");
  t.deepEqual(compose.services["panel-agent"]?.ports, ["${PIPDU_PANEL_PUBLISH_PORT:-8081}:8081"]);
});

test("without the override the pdu-agent is simulated and gets no device; with it, /dev/i2c-1 and the i2c group", (t) => {
  const pdu = compose.services["pdu-agent"];
  t.is(pdu?.environment?.["PIPDU_HARDWARE"], "${PIPDU_HARDWARE:-sim}");
  t.is(pdu?.devices, undefined);
  const real = hardware.services["pdu-agent"];
  t.is(real?.environment?.["PIPDU_HARDWARE"], "i2c");
  t.deepEqual(real?.devices, ["/dev/i2c-${PIPDU_I2C_BUS:-1}:/dev/i2c-${PIPDU_I2C_BUS:-1}"]);
  t.regex(real?.group_add?.[0] ?? "", /^\$\{I2C_GID:\?/);
  t.is(hardware.services["panel-agent"]?.environment?.["PIPDU_PANEL_DRIVER"], "i2c");
  t.deepEqual(Object.keys(hardware.services).sort(), ["panel-agent", "pdu-agent"]);
});

test("every PIPDU_* name in the compose files and the env example exists in the configuration schema", (t) => {
  const files = ["docker-compose.yml", "deploy/compose/hardware.yml", "deploy/env/compose.env.example"];
  for (const file of files) {
    const unknown = pipduNames(fs.readFileSync(path.join(ROOT, file), "utf8")).filter((n) => !known.has(n));
    t.deepEqual(unknown, [], `${file} uses names the schema does not declare`);
  }
  t.true(
    known.has("PIPDU_MQTT_PASSWORD") && known.has("PIPDU_HARDWARE"),
    "the schema walk finds the env names",
  );
});

test("every variable compose interpolates is either defaulted, required with a message, or set in the env example", (t) => {
  const text =
    fs.readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8") +
    fs.readFileSync(path.join(ROOT, "deploy/compose/hardware.yml"), "utf8");
  const documented = new Set([...envExample.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  // $$ is a literal $ for the container's shell, not interpolation.
  for (const m of text.replaceAll("$$", "").matchAll(/\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}/g)) {
    const [, name = "", modifier] = m;
    t.true(
      modifier !== undefined || documented.has(name),
      `\${${name}} has no default and is not in deploy/env/compose.env.example`,
    );
  }
  t.true(
    documented.has("AGENT_MQTT_PASSWORD") && documented.has("COMPOSE_FILE") && documented.has("I2C_GID"),
  );
});

test("the image runs as the non-root user and keeps state in a volume at PIPDU_STATE_DIR", (t) => {
  for (const name of ["pdu-agent", "panel-agent", "gateway"]) {
    const service = compose.services[name];
    t.is(service?.environment?.["PIPDU_STATE_DIR"], "/var/lib/pipdu");
    t.regex(service?.volumes?.[0] ?? "", /^[a-z-]+-state:\/var\/lib\/pipdu$/, name);
  }
});

test("every environment value, port and command word is a plain string (a stray ': ' would turn it into a map)", (t) => {
  for (const file of [compose, hardware]) {
    for (const [name, service] of Object.entries(file.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {}))
        t.is(typeof value, "string", `${name} ${key}`);
      for (const list of [
        service.ports,
        service.devices,
        service.group_add,
        service.command,
        service.volumes,
      ]) {
        for (const item of list ?? []) t.is(typeof item, "string", `${name}: ${JSON.stringify(item)}`);
      }
    }
  }
});

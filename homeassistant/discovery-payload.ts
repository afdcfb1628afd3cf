// Home Assistant device-based discovery for one PDU, as plain data: no I/O, so golden files and the rule
// validator test it directly. Topics come from protocol/topics.ts; `~` inside each component shortens them.
import { haDeviceDiscoveryTopic, type Topics } from "../protocol/topics.ts";

export type Platform = "switch" | "sensor" | "button" | "select";
/** `p` is the platform, spelled as Home Assistant's examples and its removal rule spell it. */
export type Component = { p: Platform } & Record<string, unknown>;

export interface DevicePayload {
  device: Record<string, unknown>;
  origin: Record<string, unknown>;
  availability_topic: string;
  qos: 1;
  components: Record<string, Component>;
}

export interface DiscoveryInput {
  topics: Topics;
  pduId: string;
  deviceName: string;
  outlets: readonly { number: number; name: string; protected: boolean }[];
  firmwareVersion: string;
  hardwareKind: string;
  agentVersion: string;
  voltageSource: "configured" | "measured";
  /** The hardware keeps a cold-start policy per outlet (the power-on behaviour select). */
  coldStartPolicy: boolean;
  configurationUrl?: string | null;
  supportUrl?: string | null;
}

export const POWER_ON_OPTIONS = ["off", "on", "last"] as const;

/** `<base>_<pdu>` with every character HA does not allow in ids made `_`: stable and distinct per PDU and base. */
export function deviceObjectId(topics: Topics, pduId: string): string {
  return `${topics.base}_${pduId}`.replace(/[^a-zA-Z0-9_-]/g, "_");
}

export function discoveryTopic(prefix: string, topics: Topics, pduId: string): string {
  return haDeviceDiscoveryTopic(prefix, deviceObjectId(topics, pduId));
}

/** HA shows "<device> <entity>": an outlet name that starts with the device name loses that part. */
export function entityLabel(outletName: string, deviceName: string, n: number): string {
  const name = outletName.trim();
  const device = deviceName.trim();
  if (device.length > 0 && name.toLowerCase().startsWith(device.toLowerCase())) {
    const rest = name.slice(device.length).replace(/^[\s:_-]+/, "");
    if (rest.length === 0 || /^[0-9]+$/.test(rest)) return `Outlet ${n}`;
    return rest;
  }
  return name.length > 0 ? name : `Outlet ${n}`;
}

export function buildDiscovery(input: DiscoveryInput): DevicePayload {
  const { topics, pduId } = input;
  const id = deviceObjectId(topics, pduId);
  // Entity ids allow only lower-case letters, digits and _; unique ids keep the PDU id as it is.
  const entityBase = id.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const tilde = topics.pdu(pduId);
  /** A topic under this PDU, written relative to the component's `~`. */
  const rel = (topic: string): string =>
    topic.startsWith(`${tilde}/`) ? `~${topic.slice(tilde.length)}` : topic;
  const components: Record<string, Component> = {};
  const add = (key: string, platform: Platform, config: Record<string, unknown>): void => {
    components[key] = {
      p: platform,
      "~": tilde,
      unique_id: `${id}_${key}`,
      default_entity_id: `${platform}.${entityBase}_${key}`,
      ...config,
    };
  };

  for (const outlet of input.outlets) {
    const n = outlet.number;
    const label = entityLabel(outlet.name, input.deviceName, n);
    const key = `outlet_${n}`;
    add(key, "switch", {
      name: label,
      device_class: "outlet",
      state_topic: rel(topics.outlet(pduId, n, "state")),
      command_topic: rel(topics.set(pduId, n)),
      payload_on: "ON",
      payload_off: "OFF",
      retain: false,
    });
    add(
      `${key}_power`,
      "sensor",
      measurement(`${label} power`, "power", "W", 1, rel(topics.outlet(pduId, n, "power"))),
    );
    add(
      `${key}_current`,
      "sensor",
      measurement(`${label} current`, "current", "A", 2, rel(topics.outlet(pduId, n, "current"))),
    );
    add(`${key}_energy`, "sensor", energy(`${label} energy`, rel(topics.outlet(pduId, n, "energy"))));
    // A protected outlet refuses CYCLE without force: offering the button would only produce errors.
    if (!outlet.protected) {
      add(`${key}_power_cycle`, "button", {
        name: `${label} power cycle`,
        device_class: "restart",
        command_topic: rel(topics.set(pduId, n)),
        payload_press: "CYCLE",
        retain: false,
      });
    }
    if (input.coldStartPolicy) {
      add(`${key}_power_on_behavior`, "select", {
        name: `${label} power-on behavior`,
        entity_category: "config",
        icon: "mdi:power-settings",
        state_topic: rel(topics.powerOnBehavior(pduId, n)),
        command_topic: rel(topics.powerOnBehaviorSet(pduId, n)),
        // "off" on a protected outlet needs force (it would stay OFF after a power cut): not offered here.
        options: outlet.protected ? POWER_ON_OPTIONS.filter((o) => o !== "off") : [...POWER_ON_OPTIONS],
        retain: false,
      });
    }
  }

  add(
    "total_power",
    "sensor",
    measurement("Total power", "power", "W", 1, rel(topics.total(pduId, "power"))),
  );
  add(
    "total_current",
    "sensor",
    measurement("Total current", "current", "A", 2, rel(topics.total(pduId, "current"))),
  );
  add("total_energy", "sensor", energy("Total energy", rel(topics.total(pduId, "energy"))));
  add("mains_voltage", "sensor", {
    // Watts are amperes times this voltage unless a voltage channel measures it: the name says which.
    ...measurement(
      input.voltageSource === "configured" ? "Mains voltage (configured)" : "Mains voltage",
      "voltage",
      "V",
      0,
      rel(topics.info(pduId)),
    ),
    value_template: "{{ value_json.mains.voltage }}",
  });
  add("firmware_version", "sensor", {
    name: "Firmware version",
    entity_category: "diagnostic",
    icon: "mdi:chip",
    state_topic: rel(topics.info(pduId)),
    value_template: "{{ value_json.firmware.version }}",
  });
  add("link_errors", "sensor", {
    name: "Link errors",
    entity_category: "diagnostic",
    icon: "mdi:alert-circle-outline",
    state_class: "total_increasing",
    state_topic: rel(topics.diagnostics(pduId)),
    value_template: "{{ value_json.linkErrors }}",
  });
  add("up_since", "sensor", {
    name: "Up since",
    entity_category: "diagnostic",
    device_class: "timestamp",
    state_topic: rel(topics.diagnostics(pduId)),
    value_template: "{{ value_json.startedAt }}",
  });

  const device: Record<string, unknown> = {
    identifiers: [id],
    name: input.deviceName,
    manufacturer: "piPDU",
    // A PDU behind a driver (docs/drivers.md) is another make: say which driver serves it.
    model:
      input.hardwareKind === "driver"
        ? `PDU through piPDU's ${input.firmwareVersion.split(" ")[0] ?? ""} driver`
        : "piPDU smart rack PDU",
    sw_version: input.firmwareVersion,
    hw_version: input.hardwareKind,
  };
  if (input.configurationUrl) device["configuration_url"] = input.configurationUrl;
  const origin: Record<string, unknown> = { name: "piPDU", sw_version: input.agentVersion };
  if (input.supportUrl) origin["support_url"] = input.supportUrl;
  return { device, origin, availability_topic: topics.availability(pduId), qos: 1, components };
}

/** The payload that removes components once: each as `{"p": "<platform>"}` (HA deletes the entity). */
export function withRemovals(
  payload: DevicePayload,
  removed: Readonly<Record<string, Platform>>,
): DevicePayload {
  const stubs = Object.fromEntries(Object.entries(removed).map(([key, platform]) => [key, { p: platform }]));
  return { ...payload, components: { ...payload.components, ...stubs } };
}

export function platformsOf(payload: DevicePayload): Record<string, Platform> {
  return Object.fromEntries(Object.entries(payload.components).map(([key, c]) => [key, c.p]));
}

function measurement(
  name: string,
  deviceClass: string,
  unit: string,
  precision: number,
  stateTopic: string,
): Record<string, unknown> {
  return {
    name,
    device_class: deviceClass,
    unit_of_measurement: unit,
    state_class: "measurement",
    suggested_display_precision: precision,
    state_topic: stateTopic,
  };
}

/** Energy-dashboard ready: kWh, total_increasing, and the agent's counters never decrease. */
function energy(name: string, stateTopic: string): Record<string, unknown> {
  return {
    name,
    device_class: "energy",
    unit_of_measurement: "kWh",
    state_class: "total_increasing",
    suggested_display_precision: 3,
    state_topic: stateTopic,
  };
}

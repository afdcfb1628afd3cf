// Home Assistant's MQTT discovery rules (docs/home-assistant.md, "Rules the payloads follow"), as a checker:
// what HA itself refuses, drops silently or gets wrong. Run over everything published under the prefix.

/** The abbreviations HA expands, for the keys the platforms below use (homeassistant/components/mqtt/abbreviations.py). */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  avty: "availability",
  avty_mode: "availability_mode",
  avty_t: "availability_topic",
  avty_tpl: "availability_template",
  cmd_t: "command_topic",
  cmd_tpl: "command_template",
  cmps: "components",
  def_ent_id: "default_entity_id",
  dev: "device",
  dev_cla: "device_class",
  e: "encoding",
  en: "enabled_by_default",
  ent_cat: "entity_category",
  ent_pic: "entity_picture",
  exp_aft: "expire_after",
  frc_upd: "force_update",
  ic: "icon",
  json_attr_t: "json_attributes_topic",
  json_attr_tpl: "json_attributes_template",
  o: "origin",
  obj_id: "object_id",
  ops: "options",
  opt: "optimistic",
  p: "platform",
  pl_avail: "payload_available",
  pl_not_avail: "payload_not_available",
  pl_off: "payload_off",
  pl_on: "payload_on",
  pl_prs: "payload_press",
  ret: "retain",
  stat_cla: "state_class",
  stat_off: "state_off",
  stat_on: "state_on",
  stat_t: "state_topic",
  sug_dsp_prc: "suggested_display_precision",
  uniq_id: "unique_id",
  unit_of_meas: "unit_of_measurement",
  val_tpl: "value_template",
};
const DEVICE_ABBREVIATIONS: Readonly<Record<string, string>> = {
  cns: "connections",
  cu: "configuration_url",
  ids: "identifiers",
  mf: "manufacturer",
  mdl: "model",
  mdl_id: "model_id",
  hw: "hw_version",
  sw: "sw_version",
  sa: "suggested_area",
  sn: "serial_number",
  via_device: "via_device",
};
const ORIGIN_ABBREVIATIONS: Readonly<Record<string, string>> = { sw: "sw_version", url: "support_url" };

const ROOT_KEYS = new Set([
  "device",
  "origin",
  "components",
  "availability",
  "availability_topic",
  "availability_mode",
  "availability_template",
  "payload_available",
  "payload_not_available",
  "state_topic",
  "command_topic",
  "qos",
  "encoding",
  "message_expiry_interval",
]);
const DEVICE_KEYS = new Set([
  "identifiers",
  "connections",
  "name",
  "manufacturer",
  "model",
  "model_id",
  "sw_version",
  "hw_version",
  "serial_number",
  "configuration_url",
  "via_device",
  "suggested_area",
]);
const ORIGIN_KEYS = new Set(["name", "sw_version", "support_url"]);

const COMMON_KEYS = [
  "platform",
  "~",
  "unique_id",
  "name",
  "default_entity_id",
  "object_id",
  "device_class",
  "entity_category",
  "icon",
  "enabled_by_default",
  "entity_picture",
  "availability",
  "availability_topic",
  "availability_mode",
  "availability_template",
  "payload_available",
  "payload_not_available",
  "json_attributes_topic",
  "json_attributes_template",
  "qos",
  "encoding",
];
const PLATFORM_KEYS: Readonly<Record<string, Set<string>>> = {
  switch: new Set([
    ...COMMON_KEYS,
    "command_topic",
    "state_topic",
    "payload_on",
    "payload_off",
    "state_on",
    "state_off",
    "value_template",
    "command_template",
    "optimistic",
    "retain",
  ]),
  sensor: new Set([
    ...COMMON_KEYS,
    "state_topic",
    "unit_of_measurement",
    "state_class",
    "suggested_display_precision",
    "value_template",
    "expire_after",
    "force_update",
  ]),
  button: new Set([...COMMON_KEYS, "command_topic", "payload_press", "command_template", "retain"]),
  select: new Set([
    ...COMMON_KEYS,
    "command_topic",
    "state_topic",
    "options",
    "value_template",
    "command_template",
    "optimistic",
    "retain",
  ]),
};
const REQUIRED: Readonly<Record<string, string[]>> = {
  switch: ["command_topic"],
  sensor: ["state_topic"],
  button: ["command_topic"],
  select: ["command_topic", "options"],
};
/** Units HA accepts per sensor device class (sensor/const.py, DEVICE_CLASS_UNITS) for the classes a PDU uses. */
const UNITS: Readonly<Record<string, readonly (string | null)[]>> = {
  power: ["mW", "W", "kW", "MW", "GW", "TW", "BTU/h"],
  energy: ["J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal", "Gcal"],
  current: ["mA", "A"],
  voltage: ["μV", "mV", "V", "kV", "MV"],
  apparent_power: ["mVA", "VA", "kVA"],
  reactive_power: ["mvar", "var", "kvar"],
  power_factor: ["%", null],
  frequency: ["Hz", "kHz", "MHz", "GHz"],
  timestamp: [null],
};
const STATE_CLASSES: Readonly<Record<string, readonly string[]>> = {
  power: ["measurement"],
  current: ["measurement"],
  voltage: ["measurement"],
  apparent_power: ["measurement"],
  reactive_power: ["measurement"],
  power_factor: ["measurement"],
  frequency: ["measurement"],
  energy: ["total", "total_increasing"],
  timestamp: [],
};
const DEVICE_CLASSES: Readonly<Record<string, readonly string[]>> = {
  switch: ["outlet", "switch"],
  button: ["identify", "restart", "update"],
  sensor: Object.keys(UNITS),
};
const ID = /^[a-zA-Z0-9_-]+$/;

export interface RuleContext {
  /** Discovery prefix, e.g. "homeassistant". */
  prefix: string;
  /** unique_id → topic that used it, shared across every payload checked (HA's uniqueness is global per domain). */
  uniqueIds?: Map<string, string>;
}

/** Every rule a discovery message breaks; an empty list means Home Assistant takes it as intended. */
export function checkDiscoveryMessage(
  topic: string,
  payload: string,
  retained: boolean,
  ctx: RuleContext,
): string[] {
  const problems: string[] = [];
  const fail = (message: string): void => void problems.push(`${topic}: ${message}`);
  if (!retained) fail("discovery must be published retained");
  const rest = topic.startsWith(`${ctx.prefix}/`) ? topic.slice(ctx.prefix.length + 1).split("/") : [];
  const [component, objectId, config] = rest;
  if (
    rest.length !== 3 ||
    component !== "device" ||
    config !== "config" ||
    objectId === undefined ||
    !ID.test(objectId)
  ) {
    fail(`not a device discovery topic <prefix>/device/<id>/config with id of [a-zA-Z0-9_-]`);
  }
  if (payload.length === 0) return problems; // an empty retained payload deletes the device
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    fail("payload is not JSON");
    return problems;
  }
  if (!isObject(parsed)) {
    fail("payload is not a JSON object");
    return problems;
  }
  const root = expand(parsed, ABBREVIATIONS);
  for (const key of Object.keys(root)) {
    if (!ROOT_KEYS.has(key))
      fail(
        `root key "${key}" is not allowed (HA rejects the whole payload)${key === "~" ? "; put ~ inside each component" : ""}`,
      );
  }
  const device = root["device"];
  const deviceName = isObject(device) && typeof device["name"] === "string" ? device["name"] : null;
  checkDevice(device, fail);
  checkOrigin(root["origin"], fail);
  const components = root["components"];
  if (!isObject(components) || Object.keys(components).length === 0) {
    fail("components must be a non-empty object");
    return problems;
  }
  for (const [key, raw] of Object.entries(components)) {
    if (!ID.test(key)) fail(`component id "${key}" has characters outside [a-zA-Z0-9_-]`);
    if (!isObject(raw)) {
      fail(`component ${key} is not an object`);
      continue;
    }
    checkComponent(key, expand(raw, ABBREVIATIONS), deviceName, topic, ctx, (m) =>
      fail(`component ${key}: ${m}`),
    );
  }
  return problems;
}

function checkDevice(device: unknown, fail: (m: string) => void): void {
  if (!isObject(device)) return fail("device is required");
  const d = expand(device, DEVICE_ABBREVIATIONS);
  for (const key of Object.keys(d))
    if (!DEVICE_KEYS.has(key)) fail(`device key "${key}" is unknown (HA rejects the payload)`);
  const ids = d["identifiers"];
  const hasIds =
    (typeof ids === "string" && ids.length > 0) ||
    (Array.isArray(ids) && ids.length > 0 && ids.every((i) => typeof i === "string" && i.length > 0));
  const hasConnections = Array.isArray(d["connections"]) && d["connections"].length > 0;
  if (!hasIds && !hasConnections) fail("device needs at least one identifier or connection");
  const url = d["configuration_url"];
  if (url !== undefined && (typeof url !== "string" || !/^(https?:\/\/|homeassistant:\/\/)/.test(url)))
    fail("device configuration_url must be http(s):// or homeassistant://");
}

function checkOrigin(origin: unknown, fail: (m: string) => void): void {
  if (!isObject(origin)) return fail("origin is required");
  const o = expand(origin, ORIGIN_ABBREVIATIONS);
  for (const key of Object.keys(o))
    if (!ORIGIN_KEYS.has(key)) fail(`origin key "${key}" is unknown (HA rejects the payload)`);
  if (typeof o["name"] !== "string" || o["name"].length === 0) fail("origin needs a name");
}

function checkComponent(
  key: string,
  c: Record<string, unknown>,
  deviceName: string | null,
  topic: string,
  ctx: RuleContext,
  fail: (m: string) => void,
): void {
  const platform = c["platform"];
  if (typeof platform !== "string" || !(platform in PLATFORM_KEYS))
    return fail(`platform "${show(platform)}" is not one of ${Object.keys(PLATFORM_KEYS).join(", ")}`);
  if (Object.keys(c).length === 1) return; // {"p": ...}: removes the component
  const allowed = PLATFORM_KEYS[platform] ?? new Set<string>();
  for (const k of Object.keys(c))
    if (!allowed.has(k)) fail(`key "${k}" is not a ${platform} option (HA drops it silently)`);
  for (const k of REQUIRED[platform] ?? []) if (c[k] === undefined) fail(`${platform} needs ${k}`);

  const uniqueId = c["unique_id"];
  if (typeof uniqueId !== "string" || uniqueId.length === 0) fail("unique_id is required");
  else if (ctx.uniqueIds) {
    const owner = `${platform}:${uniqueId}`;
    const seen = ctx.uniqueIds.get(owner);
    if (seen !== undefined && seen !== `${topic}#${key}`)
      fail(`unique_id ${uniqueId} is also used by ${seen}`);
    ctx.uniqueIds.set(owner, `${topic}#${key}`);
  }
  const entityId = c["default_entity_id"];
  if (
    entityId !== undefined &&
    (typeof entityId !== "string" || !new RegExp(`^${platform}\\.[a-z0-9_]+$`).test(entityId))
  ) {
    fail(`default_entity_id "${show(entityId)}" must be ${platform}.<lower-case a-z, 0-9, _>`);
  }
  const name = c["name"];
  if (
    typeof name === "string" &&
    deviceName !== null &&
    name.toLowerCase().startsWith(deviceName.toLowerCase())
  ) {
    fail(`name "${name}" repeats the device name "${deviceName}"`);
  }
  for (const [k, v] of Object.entries(c)) {
    if (k.endsWith("_topic") && typeof v === "string") {
      const tilde = c["~"];
      const full = typeof tilde === "string" ? v.replace(/^~/, tilde).replace(/~$/, tilde) : v;
      if (full.length === 0 || /[#+]/.test(full) || full.includes("~"))
        fail(`${k} "${v}" is not a topic (wildcard or unexpanded ~)`);
    }
  }
  const category = c["entity_category"];
  if (category !== undefined && category !== "config" && category !== "diagnostic")
    fail(`entity_category "${show(category)}" is not config or diagnostic`);
  if (platform === "sensor" && category === "config")
    fail("a sensor cannot have entity_category config (HA refuses it)");
  if (c["retain"] === true)
    fail("commands must not be retained (a retained command flips the outlet after every reconnect)");

  const deviceClass = c["device_class"];
  if (deviceClass !== undefined && !(DEVICE_CLASSES[platform] ?? []).includes(show(deviceClass))) {
    fail(`device_class "${show(deviceClass)}" is not one this ${platform} check knows`);
  }
  if (platform === "switch" && c["payload_on"] !== undefined && c["payload_on"] !== "ON")
    fail("payload_on must match the state topic's ON");
  if (platform === "select") {
    const options = c["options"];
    if (!Array.isArray(options) || options.length === 0 || !options.every((o) => typeof o === "string"))
      fail("options must be a non-empty list of strings");
  }
  if (platform === "sensor") checkSensor(c, fail);
}

function checkSensor(c: Record<string, unknown>, fail: (m: string) => void): void {
  const deviceClass = typeof c["device_class"] === "string" ? c["device_class"] : null;
  const unit = typeof c["unit_of_measurement"] === "string" ? c["unit_of_measurement"] : null;
  const stateClass = c["state_class"];
  if (
    stateClass !== undefined &&
    !["measurement", "total", "total_increasing", "measurement_angle"].includes(show(stateClass))
  ) {
    fail(`state_class "${show(stateClass)}" is unknown`);
  }
  if (deviceClass === null) return;
  const units = UNITS[deviceClass];
  if (units && !units.includes(unit))
    fail(
      `unit "${String(unit)}" is not valid for device_class ${deviceClass} (HA does not create the entity); allowed: ${units.map(String).join(", ")}`,
    );
  const classes = STATE_CLASSES[deviceClass];
  if (classes && stateClass !== undefined && !classes.includes(show(stateClass))) {
    fail(
      `state_class ${show(stateClass)} does not suit device_class ${deviceClass}; use ${classes.join(" or ") || "none"}`,
    );
  }
  if (deviceClass === "energy" && stateClass === undefined)
    fail("energy needs state_class total or total_increasing for the Energy dashboard");
}

function expand(
  obj: Record<string, unknown>,
  table: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[table[k] ?? k] = v;
  return out;
}

function show(v: unknown): string {
  return typeof v === "string" ? v : v === undefined ? "undefined" : JSON.stringify(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// PDUDaemon's configuration file (pdudaemon.conf, JSON) read as it is: `daemon`, `pdus` with per-PDU `driver`,
// `retries` and `retrydelay`, and `aliases`. Each PDUDaemon hostname becomes a PDU id for MQTT; a bad entry is a
// problem for that PDU only, reported by name, so the other PDUs still run.
import fs from "node:fs/promises";
import type { Settings } from "./settings.ts";

/** PDUDaemon's defaults (pdudaemon/__init__.py): 5 attempts, 5 seconds apart. */
export const DEFAULT_RETRIES = 5;
export const DEFAULT_RETRY_DELAY = 5;

export interface DriverPduConfig {
  /** The name PDUDaemon knows the PDU by (its key under `pdus`); also the device's address for most drivers. */
  hostname: string;
  /** hostname as an MQTT PDU id. */
  pduId: string;
  driver: string;
  retries: number;
  retryDelay: number;
  /** Every key of the entry, as upstream's driver reads them. */
  options: Record<string, unknown>;
  /** Where the entry is written (the file, or `pdudaemon.pdus`), for messages about it. */
  source?: string;
}

export interface PdudaemonFile {
  pdus: DriverPduConfig[];
  /** alias → PDU id and port, hostnames already turned into PDU ids. */
  aliases: Record<string, { hostname: string; port: string }>;
  daemon: { port: number | null; listener: string | null };
  /** Entries that cannot run, one line each naming the PDU or alias. */
  problems: string[];
}

/** `127.0.0.1` → `127-0-0-1`, `PDU05.lab` → `pdu05-lab`: lower case, every other character a `-`. */
export function pduIdFromHostname(hostname: string): string {
  return hostname.toLowerCase().replace(/[^a-z0-9_-]/g, "-");
}

/** `<base>/response/…` carries MQTT 5 responses to requesters; a PDU there would share their topics. */
const RESERVED_IDS = new Set(["response"]);

export class PdudaemonConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PdudaemonConfigError";
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads a PDUDaemon config file at start-up. A file that cannot be read or parsed stops start-up. */
export async function readPdudaemonFile(file: string): Promise<PdudaemonFile> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    throw new PdudaemonConfigError(
      `pdudaemon.config (PIPDU_PDUDAEMON_CONFIG) = "${file}": cannot be read: ${(err as Error).message}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PdudaemonConfigError(
      `pdudaemon.config (PIPDU_PDUDAEMON_CONFIG) = "${file}": not JSON: ${(err as Error).message}`,
    );
  }
  if (!isObject(parsed))
    throw new PdudaemonConfigError(
      `pdudaemon.config (PIPDU_PDUDAEMON_CONFIG) = "${file}": must be a JSON object with "pdus"`,
    );
  return parsePdudaemonConfig(parsed);
}

/** The parsed content of a PDUDaemon config (or piPDU's own `pdudaemon.pdus` in the same shape). */
export function parsePdudaemonConfig(value: Record<string, unknown>): PdudaemonFile {
  const problems: string[] = [];
  const pdus = parsePdus(value["pdus"] ?? {}, problems);
  const aliases = parseAliases(value["aliases"] ?? {}, problems);
  const daemon = isObject(value["daemon"]) ? value["daemon"] : {};
  const port = daemon["port"];
  const listener = daemon["listener"];
  return {
    pdus,
    aliases,
    daemon: {
      port: typeof port === "number" && Number.isInteger(port) ? port : null,
      listener: typeof listener === "string" ? listener : null,
    },
    problems,
  };
}

export function parsePdus(value: unknown, problems: string[]): DriverPduConfig[] {
  if (!isObject(value)) {
    problems.push('pdus: must be an object such as {"pdu1":{"driver":"localcmdline",…}}');
    return [];
  }
  const out: DriverPduConfig[] = [];
  const seen = new Map<string, string>();
  for (const [hostname, entry] of Object.entries(value)) {
    const name = JSON.stringify(hostname.slice(0, 80));
    if (!isObject(entry)) {
      problems.push(`PDU ${name}: must be an object with a "driver"`);
      continue;
    }
    const driver = entry["driver"];
    if (typeof driver !== "string" || driver === "") {
      problems.push(`PDU ${name}: "driver" must be a driver name such as "snmpv1"`);
      continue;
    }
    const pduId = pduIdFromHostname(hostname);
    if (pduId.length < 1 || pduId.length > 64) {
      problems.push(`PDU ${name}: a hostname must be 1 to 64 characters`);
      continue;
    }
    if (RESERVED_IDS.has(pduId)) {
      problems.push(`PDU ${name}: its id "${pduId}" is the topic level of MQTT responses; rename it`);
      continue;
    }
    const other = seen.get(pduId);
    if (other !== undefined) {
      problems.push(`PDU ${name}: its id "${pduId}" is already taken by "${other}"; rename one of them`);
      continue;
    }
    const retries = whole(entry["retries"], DEFAULT_RETRIES);
    const retryDelay = seconds(entry["retrydelay"], DEFAULT_RETRY_DELAY);
    if (retries === null || retries < 1 || retries > 100) {
      problems.push(`PDU ${name}: "retries" must be a whole number of attempts from 1 to 100`);
      continue;
    }
    if (retryDelay === null || retryDelay < 0 || retryDelay > 600) {
      problems.push(`PDU ${name}: "retrydelay" must be seconds from 0 to 600`);
      continue;
    }
    seen.set(pduId, hostname);
    out.push({ hostname, pduId, driver, retries, retryDelay, options: entry });
  }
  return out;
}

function parseAliases(value: unknown, problems: string[]): PdudaemonFile["aliases"] {
  // Entries, then fromEntries: an alias named "__proto__" becomes a key, not the object's prototype.
  const out: [string, { hostname: string; port: string }][] = [];
  if (!isObject(value)) {
    problems.push('aliases: must be an object such as {"dut1":{"hostname":"pdu1","port":3}}');
    return {};
  }
  for (const [alias, target] of Object.entries(value)) {
    const name = JSON.stringify(alias.slice(0, 80));
    const hostname = isObject(target) ? target["hostname"] : undefined;
    const port = isObject(target) ? target["port"] : undefined;
    const portOk =
      (typeof port === "number" && Number.isInteger(port) && port >= 0) ||
      (typeof port === "string" && port.length > 0 && port.length <= 40);
    if (typeof hostname !== "string" || hostname === "" || !portOk) {
      problems.push(`alias ${name}: must be {"hostname":<a PDU>,"port":<an outlet>}`);
      continue;
    }
    out.push([alias, { hostname: pduIdFromHostname(hostname), port: String(port) }]);
  }
  return Object.fromEntries(out);
}

function whole(value: unknown, fallback: number): number | null {
  if (value === undefined) return fallback;
  const n = typeof value === "string" && /^[0-9]+$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) ? n : null;
}

function seconds(value: unknown, fallback: number): number | null {
  if (value === undefined) return fallback;
  const n = typeof value === "string" && /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** Driver PDUs from the PDUDaemon file (PIPDU_PDUDAEMON_CONFIG) and from piPDU's own `pdudaemon.pdus`. */
export async function driverPduConfigs(
  settings: Settings,
): Promise<{ pdus: DriverPduConfig[]; problems: string[]; notes: string[] }> {
  const { config = null, pdus = {} } = settings.pdudaemon;
  const file = config === null ? null : await readPdudaemonFile(config);
  const problems = (file?.problems ?? []).map((line) => `${config ?? ""}: ${line}`);
  const notes: string[] = [];
  const port = file?.daemon.port ?? null;
  if (port !== null && port !== settings.pdudaemon.port)
    notes.push(
      `${config ?? ""}: daemon.port ${port} is not used; piPDU serves the PDUDaemon API (HTTP and TCP) on pdudaemon.port ${settings.pdudaemon.port} (PIPDU_PDUDAEMON_PORT)`,
    );
  const ownProblems: string[] = [];
  const own = parsePdus(pdus, ownProblems).map((pdu) => ({ ...pdu, source: "pdudaemon.pdus" }));
  problems.push(...ownProblems.map((line) => `pdudaemon.pdus: ${line}`));
  const all = (file?.pdus ?? []).map((pdu) => ({ ...pdu, source: config ?? "" }));
  for (const pdu of own) {
    if (all.some((p) => p.pduId === pdu.pduId))
      problems.push(
        `pdudaemon.pdus: PDU "${pdu.hostname}": also declared in ${config ?? ""}, whose entry wins`,
      );
    else all.push(pdu);
  }
  for (const [alias, target] of Object.entries(file?.aliases ?? {}))
    if (target.hostname !== settings.pdu.id && !all.some((p) => p.pduId === target.hostname))
      notes.push(
        `${config ?? ""}: alias "${alias}" names PDU "${target.hostname}", which is neither in its pdus nor this piPDU; requests by this alias fail unless a PDU "${target.hostname}" is on the bus`,
      );
  const local = all.find((p) => p.pduId === settings.pdu.id);
  if (local) {
    problems.push(
      `${local.source}: PDU "${local.hostname}": its id "${local.pduId}" is this piPDU's own pdu.id; not started`,
    );
  }
  return { pdus: all.filter((p) => p !== local), problems, notes };
}

/** The aliases of the PDUDaemon file, for the gateway's PDUDaemon API (empty without a file). */
export async function pdudaemonAliases(settings: Settings): Promise<PdudaemonFile["aliases"]> {
  const { config = null } = settings.pdudaemon;
  return config === null ? {} : (await readPdudaemonFile(config)).aliases;
}

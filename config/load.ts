// Load, validate and print the configuration. A wrong value becomes one line per problem that names the
// key, where it can be set, the value and what is allowed.
import fs from "node:fs";
import convict from "convict";
import YAML from "yaml";
import { schema } from "./schema.ts";
import type { Settings } from "./settings.ts";

export type { Settings } from "./settings.ts";
type Config = convict.Config<Settings>;

convict.addParser([
  { extension: ["yml", "yaml"], parse: (text: string): unknown => YAML.parse(text) },
  { extension: "json", parse: (text: string): unknown => JSON.parse(text) },
]);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

export interface LoadOptions {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
}

export function loadConfig(options: LoadOptions = {}): { settings: Settings; print: () => string } {
  const env = options.env ?? process.env;
  let config: Config;
  try {
    config = convict<Settings>(schema as unknown as convict.Schema<Settings>, {
      args: options.argv ?? [],
      env,
    });
  } catch (err) {
    throw new ConfigError([`configuration: ${(err as Error).message}`]);
  }
  const file = config.get("config");
  if (file !== null) {
    if (!fs.existsSync(file))
      throw new ConfigError([`config: file "${file}" does not exist (set by PIPDU_CONFIG or --config)`]);
    try {
      config.loadFile(file);
    } catch (err) {
      throw new ConfigError([
        `config: file "${file}" cannot be read: ${(err as Error).message.split("\n")[0] ?? ""}`,
      ]);
    }
  }
  try {
    config.validate({ allowed: "strict" });
  } catch (err) {
    throw new ConfigError(describeProblems(config, (err as Error).message));
  }
  const settings = config.getProperties();
  return { settings, print: () => config.toString() };
}

function describeProblems(config: Config, message: string): string[] {
  return message.split("\n").map((line) => {
    const undeclared = /^configuration param '(.+)' not declared in the schema$/.exec(line);
    if (undeclared)
      return `${undeclared[1] ?? ""}: unknown setting (check the spelling against the configuration table in the README)`;
    const m = /^([\w.]+): (.*?)(?:: value was .*)?$/.exec(line);
    if (!m) return line;
    const key = m[1] ?? "";
    const env = envName(key);
    const value = sensitiveKeys.has(key) ? '"***"' : JSON.stringify(safeGet(config, key));
    return `${key} (${env}) = ${value}: ${m[2] ?? ""}`;
  });
}

/** Every key the schema marks `sensitive` (passwords, tokens, PDU entries with communities): never shown. */
const sensitiveKeys = sensitiveIn(schema);

function sensitiveIn(node: object, prefix = "", keys = new Set<string>()): Set<string> {
  for (const [name, value] of Object.entries(node)) {
    if (typeof value !== "object" || value === null) continue;
    const key = `${prefix}${name}`;
    if ("default" in value) {
      if ((value as { sensitive?: unknown }).sensitive === true) keys.add(key);
    } else sensitiveIn(value as object, `${key}.`, keys);
  }
  return keys;
}

function safeGet(config: Config, key: string): unknown {
  try {
    return (config as unknown as { get(k: string): unknown }).get(key);
  } catch {
    return undefined;
  }
}

/** PIPDU_ + key path in upper snake case: broker.wsPort → PIPDU_BROKER_WS_PORT. */
export function envName(key: string): string {
  return `PIPDU_${key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/\./g, "_")
    .toUpperCase()}`;
}

// Load, validate and print the configuration. A wrong value becomes one line per problem that names the
// key, where it was set (the flag, the variable or the file), the value and what is allowed. Unknown
// command-line options are refused with the closest setting; unknown PIPDU_* variables are reported.
import fs from "node:fs";
import { parseArgs } from "node:util";
import convict from "convict";
import YAML from "yaml";
import { schema } from "./schema.ts";
import type { Settings } from "./settings.ts";
import { closest } from "./suggest.ts";

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
  /** --key.path value (or --key.path=value) for any setting. */
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Options a command takes besides the settings (names without "--", each with a value); ignored here. */
  ownOptions?: string[];
}

export interface Loaded {
  settings: Settings;
  /** The effective configuration as JSON, secrets and URL passwords masked. */
  print: () => string;
  /** PIPDU_* variables that are not settings: likely typos, ignored. */
  warnings: string[];
}

interface Leaf {
  key: string;
  env?: string;
  sensitive: boolean;
}

/** Every setting of the schema: its key path, variable, and whether it is a secret. */
export function settingLeaves(node: unknown = schema, prefix = ""): Leaf[] {
  if (node === null || typeof node !== "object") return [];
  const record = node as Record<string, unknown>;
  if ("doc" in record && "default" in record) {
    const env = typeof record["env"] === "string" ? record["env"] : undefined;
    return [{ key: prefix, ...(env === undefined ? {} : { env }), sensitive: record["sensitive"] === true }];
  }
  return Object.entries(record).flatMap(([k, v]) => settingLeaves(v, prefix === "" ? k : `${prefix}.${k}`));
}

const LEAVES = settingLeaves();
const KEYS = LEAVES.map((l) => l.key);
const ENV_NAMES = LEAVES.flatMap((l) => (l.env === undefined ? [] : [l.env]));
const SENSITIVE = new Set(LEAVES.filter((l) => l.sensitive).map((l) => l.key));
const ENV_OF = new Map(LEAVES.map((l) => [l.key, l.env ?? envName(l.key)]));
/**
 * PIPDU_* names that are not settings but are read elsewhere: bin/pipdu.js (RUNTIME), docker compose's
 * interpolation (IMAGE, FLEET_SIZE, *_PUBLISH_PORT), and the tests' and benchmarks' knobs.
 */
const OTHER_VARIABLES =
  /^PIPDU_(RUNTIME|IMAGE|FLEET_SIZE|\w+_PUBLISH_PORT|TEST_\w+|FUZZ_\w+|CHROMIUM|STRESS_COMMANDS|FAULT_SECONDS|UPDATE_GOLDEN)$/;

export function loadConfig(options: LoadOptions = {}): Loaded {
  const env = options.env ?? process.env;
  const cli = parseSettingArgs(options.argv ?? [], options.ownOptions ?? []);
  const named = cli.get("config");
  let config: Config;
  try {
    config = convict<Settings>(schema as unknown as convict.Schema<Settings>, { args: [], env });
    // The command line wins over everything; the file it names is read next.
    if (named !== undefined) config.set("config", named);
  } catch (err) {
    throw new ConfigError([`configuration: ${(err as Error).message}`]);
  }
  const file = config.get("config");
  if (file !== null) {
    const from = named !== undefined ? "--config" : "PIPDU_CONFIG";
    if (!fs.existsSync(file))
      throw new ConfigError([`config: file "${file}" does not exist (set by ${from})`]);
    try {
      config.loadFile(file);
    } catch (err) {
      throw new ConfigError([
        `config: file "${file}" cannot be read: ${maskUrls((err as Error).message.split("\n")[0] ?? "")}`,
      ]);
    }
  }
  for (const [key, value] of cli) {
    if (key === "config") continue;
    try {
      config.set(key as never, value as never);
    } catch (err) {
      throw new ConfigError([`${key} (--${key}) = ${JSON.stringify(value)}: ${(err as Error).message}`]);
    }
  }
  try {
    config.validate({ allowed: "strict" });
  } catch (err) {
    const where = (key: string): string => {
      const variable = ENV_OF.get(key) ?? envName(key);
      if (cli.has(key)) return `--${key}`;
      return env[variable] !== undefined || file === null ? variable : `in ${file}`;
    };
    throw new ConfigError(describeProblems(config, (err as Error).message, where));
  }
  const settings = config.getProperties();
  return { settings, print: () => printable(settings), warnings: unknownVariables(env) };
}

/** --key.path value pairs for known settings; anything else is refused with the closest setting. */
function parseSettingArgs(argv: string[], own: string[]): Map<string, string> {
  const known = [...KEYS, ...own];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(known.map((k) => [k, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError([argumentProblem(err as Error & { code?: string }, known)]);
  }
  const ownSet = new Set(own);
  return new Map(
    Object.entries(values).flatMap(([k, v]) => (typeof v === "string" && !ownSet.has(k) ? [[k, v]] : [])),
  );
}

function argumentProblem(err: Error & { code?: string }, known: string[]): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? "";
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const name = quoted.replace(/^-+/, "");
    const guess = closest(name, known);
    return `${quoted}: unknown option${guess === undefined ? "" : ` (did you mean --${guess}?)`}; every setting is --key.path value, see pipdu config print`;
  }
  if (err.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
    return `unexpected argument "${quoted}": settings are given as --key.path value`;
  return err.message;
}

/** Unknown PIPDU_* variables, each with the closest setting's variable when there is one. */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const knownEnv = new Set(ENV_NAMES);
  return Object.keys(env)
    .filter((name) => name.startsWith("PIPDU_") && !knownEnv.has(name) && !OTHER_VARIABLES.test(name))
    .sort()
    .map((name) => {
      const guess = closest(name, ENV_NAMES);
      return `${name} is not a setting and is ignored${guess === undefined ? "" : ` (did you mean ${guess}?)`}`;
    });
}

function describeProblems(config: Config, message: string, where: (key: string) => string): string[] {
  return message.split("\n").map((line) => {
    const undeclared = /^configuration param '(.+)' not declared in the schema$/.exec(line);
    if (undeclared)
      return `${undeclared[1] ?? ""}: unknown setting (check the spelling against the configuration table in the README)`;
    const m = /^([\w.]+): (.*?)(?:: value was .*)?$/.exec(line);
    if (!m) return maskUrls(line);
    const key = m[1] ?? "";
    const value = SENSITIVE.has(key) ? '"***"' : maskUrls(show(safeGet(config, key)));
    return `${key} (${where(key)}) = ${value}: ${m[2] ?? ""}`;
  });
}

/** user:password@ in a URL becomes user:***@. */
export function maskUrls(text: string): string {
  return text.replace(/(\w+:\/\/[^\s/:@"]*):[^\s/@"]*@/g, "$1:***@");
}

/** Settings as JSON with secrets masked: "[Sensitive]" when set, null when not (so it shows whether one is set). */
function printable(settings: Settings): string {
  const mask = (value: unknown, key: string): unknown => {
    if (SENSITIVE.has(key)) return value === null ? null : "[Sensitive]";
    if (typeof value === "string") return maskUrls(value);
    if (Array.isArray(value)) return value.map((v) => mask(v, ""));
    if (value !== null && typeof value === "object")
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, mask(v, key === "" ? k : `${key}.${k}`)]),
      );
    return value;
  };
  return JSON.stringify(mask(settings, ""), null, 2);
}

function show(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
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

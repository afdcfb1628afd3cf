// The README's table of every setting, made from the schema itself so it cannot fall behind:
// `npm run docs:settings` writes it into README.md, and a unit test fails when the two differ.
import { schema } from "./schema.ts";

export const TABLE_START =
  "<!-- settings table: generated from config/schema.ts by npm run docs:settings -->";
export const TABLE_END = "<!-- end of settings table -->";

interface Row {
  key: string;
  env: string;
  value: unknown;
  doc: string;
}

function rows(node: unknown, prefix = ""): Row[] {
  if (node === null || typeof node !== "object") return [];
  const record = node as Record<string, unknown>;
  if ("doc" in record && "default" in record) {
    const env = typeof record["env"] === "string" ? record["env"] : "";
    return [{ key: prefix, env, value: record["default"], doc: String(record["doc"]) }];
  }
  return Object.entries(record).flatMap(([k, v]) => rows(v, prefix === "" ? k : `${prefix}.${k}`));
}

function shown(key: string, value: unknown): string {
  if (value === null) return "–";
  if (typeof value === "number" && /address|expander[AB]$/i.test(key)) return `\`0x${value.toString(16)}\``;
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

export function settingsTable(): string {
  return [
    "| key | environment | default | meaning |",
    "|---|---|---|---|",
    ...rows(schema).map(
      (r) => `| \`${r.key}\` | \`${r.env}\` | ${shown(r.key, r.value)} | ${r.doc.replaceAll("|", "\\|")} |`,
    ),
  ].join("\n");
}

/** README text with the table between the markers replaced by the current one. */
export function withSettingsTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start === -1 || end < start)
    throw new Error(`README.md lacks the markers ${TABLE_START} … ${TABLE_END}`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${settingsTable()}\n${readme.slice(end)}`;
}

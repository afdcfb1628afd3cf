// The firmware header and the TypeScript register map are two copies of one contract
// (docs/i2c-protocol.md): every constant must agree, and neither may have one the other lacks.
import test from "ava";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  CHANNELS,
  ColdPolicy,
  Command,
  DEFAULT_I2C_ADDRESS,
  DEVICE_MAGIC,
  MAX_READ,
  MAX_WRITE,
  PROTOCOL_VERSION,
  RECEIPT_LEN,
  Reg,
  ResetCause,
  Status,
  WRITABLE,
  WriteStatus,
} from "../protocol/register-map.ts";

const HEADER = fileURLToPath(new URL("../firmware/src/register_map.h", import.meta.url));

/** `#define PIPDU_<NAME> <value>` lines, as documented at the top of the header. */
function parseHeader(text: string): Map<string, number> {
  const defines = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^#define\s+PIPDU_(\w+)\s+(0x[0-9a-fA-F]+|\d+)\s*(?:\/\/.*)?$/.exec(line.trim());
    if (!m?.[1] || !m[2]) continue;
    if (defines.has(m[1])) throw new Error(`PIPDU_${m[1]} defined twice`);
    defines.set(m[1], Number(m[2]));
  }
  return defines;
}

const header = parseHeader(readFileSync(HEADER, "utf8"));

const groups: readonly [prefix: string, table: Readonly<Record<string, number>>][] = [
  ["REG_", Reg],
  ["RESET_", ResetCause],
  ["STATUS_", Status],
  ["WRITE_", WriteStatus],
  ["COLD_", ColdPolicy],
  ["CMD_", Command],
];

const scalars: Readonly<Record<string, number>> = {
  PROTOCOL_VERSION,
  DEVICE_MAGIC,
  DEFAULT_I2C_ADDRESS,
  MAX_READ,
  MAX_WRITE,
  CHANNELS,
  RECEIPT_LEN,
};

function writableDefines(): Record<string, number> {
  const out: Record<string, number> = {};
  WRITABLE.forEach(([start, end], i) => {
    out[`WRITABLE_${i}_START`] = start;
    out[`WRITABLE_${i}_END`] = end;
  });
  return out;
}

test("the header parses into a plausible number of constants", (t) => {
  t.true(header.size > 50, `only ${header.size} PIPDU_ defines found in ${HEADER}`);
});

test("protocol version, magic, default address, frame limits and channel count agree", (t) => {
  for (const [name, value] of Object.entries(scalars)) t.is(header.get(name), value, name);
});

for (const [prefix, table] of groups) {
  test(`every ${prefix}* constant in the TypeScript map has the same value in the header`, (t) => {
    for (const [name, value] of Object.entries(table))
      t.is(header.get(prefix + name), value, `${prefix}${name}`);
  });
}

test("the writable byte ranges agree", (t) => {
  for (const [name, value] of Object.entries(writableDefines())) t.is(header.get(name), value, name);
});

test("the header has no constant that the TypeScript map lacks", (t) => {
  const known = new Set<string>([...Object.keys(scalars), ...Object.keys(writableDefines())]);
  for (const [prefix, table] of groups) for (const name of Object.keys(table)) known.add(prefix + name);
  const extra = [...header.keys()].filter((name) => !known.has(name));
  t.deepEqual(extra, [], `only in firmware/src/register_map.h: ${extra.join(", ")}`);
});

test("no two registers share an address and they ascend in map order", (t) => {
  const addresses = Object.values(Reg);
  t.deepEqual(
    [...addresses].sort((a, b) => a - b),
    addresses,
  );
  t.is(new Set(addresses).size, addresses.length);
});

// The on-disk form of one PDU's history: a magic, a JSON header (tiers, energy by day) and the ring buffers
// as raw little-endian arrays. The size is fixed by the tiers and the outlet count, so the disk stays bounded.
import { EnergyPeriods } from "./energy-periods.ts";
import { TieredHistory, type TierSpec } from "./tiered-history.ts";

const MAGIC = Buffer.from("PIPDUHS1", "latin1");

export interface PduHistory {
  pdu: string;
  history: TieredHistory;
  energy: EnergyPeriods;
}

interface Header {
  pdu: string;
  width: number;
  lastSample: number;
  tiers: { step: number; slots: number; openAt: number }[];
  energy: unknown;
}

function arrays(history: TieredHistory): ArrayBufferView[] {
  return history.tiers.flatMap((t) => [
    t.times,
    t.power,
    t.current,
    t.sumPower,
    t.sumCurrent,
    t.countPower,
    t.countCurrent,
  ]);
}

export function encodeHistory(entry: PduHistory): Uint8Array {
  const header: Header = {
    pdu: entry.pdu,
    width: entry.history.width,
    lastSample: entry.history.lastSample,
    tiers: entry.history.tiers.map((t) => ({ step: t.spec.step, slots: t.spec.slots, openAt: t.openAt })),
    energy: entry.energy.toJSON(),
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const pad = Buffer.alloc((8 - ((MAGIC.length + 4 + json.length) % 8)) % 8);
  const body = arrays(entry.history).map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return Buffer.concat([MAGIC, length, json, pad, ...body]);
}

/**
 * A saved history, or null when the file is not one. Tiers that no longer match `specs` (another version
 * with other resolutions) start empty; so does everything when the outlet count changed.
 */
export function decodeHistory(
  data: Buffer,
  specs: readonly TierSpec[],
  timezone: string,
  width?: number,
): PduHistory | null {
  if (data.length < MAGIC.length + 4 || !data.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const length = data.readUInt32LE(MAGIC.length);
  let header: Header;
  try {
    header = JSON.parse(
      data.subarray(MAGIC.length + 4, MAGIC.length + 4 + length).toString("utf8"),
    ) as Header;
  } catch {
    return null;
  }
  if (
    typeof header.pdu !== "string" ||
    !Number.isInteger(header.width) ||
    header.width < 1 ||
    header.width > 65 ||
    !Array.isArray(header.tiers)
  )
    return null;
  const entryWidth = width ?? header.width;
  const history = new TieredHistory(entryWidth, specs);
  const energy = new EnergyPeriods(entryWidth, timezone);
  if (entryWidth !== header.width) return { pdu: header.pdu, history, energy };
  energy.restore(header.energy);
  const sameTiers =
    header.tiers.length === specs.length &&
    header.tiers.every((t, i) => t.step === specs[i]?.step && t.slots === specs[i].slots);
  const start = MAGIC.length + 4 + length;
  let offset = start + ((8 - (start % 8)) % 8);
  const targets = arrays(history);
  const expected = targets.reduce((sum, a) => sum + a.byteLength, 0);
  if (!sameTiers || data.length - offset !== expected) return { pdu: header.pdu, history, energy };
  for (const target of targets) {
    new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(
      data.subarray(offset, offset + target.byteLength),
    );
    offset += target.byteLength;
  }
  history.tiers.forEach((t, i) => (t.openAt = header.tiers[i]?.openAt ?? 0));
  history.lastSample = typeof header.lastSample === "number" ? header.lastSample : 0;
  return { pdu: header.pdu, history, energy };
}

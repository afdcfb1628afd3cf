// The JSON shape of PDUs and outlets, shared by the REST API, the live events and /power/status.
import type { OutletView, PduView } from "../client/pdu-directory.ts";

export interface OutletJson {
  number: number;
  name: string;
  protected: boolean;
  state: "ON" | "OFF" | null;
  power: number | null;
  current: number | null;
  energy: number | null;
}

export interface PduJson {
  id: string;
  name: string;
  online: boolean;
  firmware: string | null;
  agent: string | null;
  voltage: { value: number; source: string } | null;
  outlets: OutletJson[];
  totals: { power: number; current: number; energy: number; outletsOn: number };
}

export function outletJson(o: OutletView): OutletJson {
  return {
    number: o.number,
    name: o.name,
    protected: o.protected,
    state: o.state,
    power: o.power,
    current: o.current,
    energy: o.energy,
  };
}

export function pduJson(pdu: PduView): PduJson {
  const outlets = [...pdu.outlets.values()].sort((a, b) => a.number - b.number).map(outletJson);
  const sum = (pick: (o: OutletJson) => number | null, decimals: number): number =>
    Math.round(outlets.reduce((acc, o) => acc + (pick(o) ?? 0), 0) * 10 ** decimals) / 10 ** decimals;
  return {
    id: pdu.id,
    name: pdu.name,
    online: pdu.online,
    firmware: pdu.info?.firmware.version ?? null,
    agent: pdu.info?.agent.version ?? null,
    voltage: pdu.info ? { value: pdu.info.mains.voltage, source: pdu.info.mains.voltageSource } : null,
    outlets,
    totals: {
      power: sum((o) => o.power, 1),
      current: sum((o) => o.current, 3),
      energy: sum((o) => o.energy, 4),
      outletsOn: outlets.filter((o) => o.state === "ON").length,
    },
  };
}

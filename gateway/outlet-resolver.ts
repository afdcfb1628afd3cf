// Turns what a client typed (a PDU id, an outlet number with or without leading zeros, an outlet name)
// into a PDU and an outlet on the bus, or an error that says what exists.
import type { OutletView, PduDirectory, PduView } from "../client/pdu-directory.ts";
import { pduIdFromHostname } from "../config/pdudaemon-config.ts";
import { printable } from "./pdudaemon-request.ts";

export type Resolved<T> =
  | { ok: true; value: T }
  | { ok: false; code: "unknown_pdu" | "unknown_outlet" | "pdu_offline"; message: string };

export function resolvePdu(directory: PduDirectory, hostname: string): Resolved<PduView> {
  // A PDUDaemon hostname (`PDU05.lab`) names the driver-backed PDU whose id is derived from it (`pdu05-lab`).
  const pdu =
    directory.get(hostname) ??
    directory.get(hostname.toLowerCase()) ??
    directory.get(pduIdFromHostname(hostname));
  if (!pdu?.info) {
    const known = directory
      .list()
      .filter((p) => p.info)
      .map((p) => p.id);
    return {
      ok: false,
      code: "unknown_pdu",
      message: `no PDU "${printable(hostname)}" on the bus; known: ${known.length > 0 ? known.join(", ") : "none"}`,
    };
  }
  return { ok: true, value: pdu };
}

export function resolveOutlet(pdu: PduView, port: string): Resolved<OutletView> {
  const count = pdu.outlets.size;
  if (/^[0-9]{1,4}$/.test(port)) {
    const outlet = pdu.outlets.get(Number.parseInt(port, 10));
    if (outlet) return { ok: true, value: outlet };
    return {
      ok: false,
      code: "unknown_outlet",
      message: `PDU "${pdu.id}" has no outlet ${printable(port)}; outlets are 1 to ${count}`,
    };
  }
  const wanted = port.trim().toLowerCase();
  for (const outlet of pdu.outlets.values())
    if (outlet.name.toLowerCase() === wanted) return { ok: true, value: outlet };
  return {
    ok: false,
    code: "unknown_outlet",
    message: `PDU "${pdu.id}" has no outlet named "${printable(port)}"; use a number from 1 to ${count} or an outlet name`,
  };
}

// PDUDaemon aliases in the configuration (`gateway.aliases`): the format and its validation.
import { jsonFormat } from "./formats.ts";

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function validateAliases(value: unknown): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error('must be an object such as {"dut1":{"hostname":"pdu1","port":3}}');
  }
  for (const [alias, target] of Object.entries(value)) {
    if (!NAME.test(alias))
      throw new Error(`alias "${alias.slice(0, 40)}" must be 1 to 64 of A-Z, a-z, 0-9, _ . -`);
    if (typeof target !== "object" || target === null || Array.isArray(target))
      throw new Error(`alias "${alias}" must be {"hostname":…,"port":…}`);
    const t = target as Record<string, unknown>;
    const extra = Object.keys(t).find((k) => k !== "hostname" && k !== "port");
    if (extra !== undefined)
      throw new Error(`alias "${alias}" has unknown key "${extra}"; allowed: hostname, port`);
    if (typeof t["hostname"] !== "string" || !/^[a-z0-9_-]{1,64}$/.test(t["hostname"]))
      throw new Error(`alias "${alias}" hostname must be a PDU id`);
    const port = t["port"];
    const ok =
      (typeof port === "number" && Number.isInteger(port) && port >= 1) ||
      (typeof port === "string" && port.length > 0 && port.length <= 40);
    if (!ok) throw new Error(`alias "${alias}" port must be an outlet number or name`);
  }
}

jsonFormat("pdudaemon-aliases", validateAliases);

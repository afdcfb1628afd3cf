// A PDUDaemon PDU entry as a driver receives it, for driver tests: `entry` holds the keys of the JSON file.
import { pduIdFromHostname, type DriverPduConfig } from "../../config/pdudaemon-config.ts";
import { DriverOptions } from "../../pdu-agent/drivers/options.ts";

export function driverOptions(hostname: string, entry: Record<string, unknown>): DriverOptions {
  const config: DriverPduConfig = {
    hostname,
    pduId: pduIdFromHostname(hostname),
    driver: String(entry["driver"]),
    retries: 1,
    retryDelay: 0,
    options: entry,
  };
  return new DriverOptions(config);
}

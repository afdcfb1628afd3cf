// PDUDaemon aliases (`alias=<name>` instead of hostname + port) as the gateway uses them; the configuration
// format and its validation live in config/aliases.ts.

export interface AliasTarget {
  hostname: string;
  port: string;
}

/** Aliases with every port as the string a request would carry. */
export function normaliseAliases(
  value: Record<string, { hostname: string; port: string | number }>,
): Map<string, AliasTarget> {
  return new Map(
    Object.entries(value).map(([alias, t]) => [alias, { hostname: t.hostname, port: String(t.port) }]),
  );
}

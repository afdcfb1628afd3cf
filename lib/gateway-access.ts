// Who may switch through HTTP, and where the gateway listens, decided in one place for the gateway and the
// simulated panel: a configured token wins; else the token saved in the state directory; else, when the
// gateway is asked to listen beyond loopback, one is generated now, saved, and printed once. With
// `gateway.host` "auto" (the default) the gateway listens on every interface only when a token exists,
// on loopback otherwise: an outlet is never switchable from the network without a secret.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { writeFileAtomic } from "./durable-file.ts";

export const AUTO_HOST = "auto";
export const TOKEN_FILE = "gateway-token";

export interface GatewayAccess {
  /** Null: switching needs no token (the gateway then listens on loopback unless told otherwise). */
  token: string | null;
  /** The address to listen on, "auto" resolved. */
  host: string;
  /** Where the token came from, for the log (never the token itself). */
  origin: "configured" | "state" | "generated" | "none";
  file: string;
}

export interface AccessSettings {
  stateDir: string;
  gateway: { host: string; token: string | null };
}

/** Resolve the token and the listening address; generates, saves and prints a token when one is needed. */
export async function gatewayAccess(
  settings: AccessSettings,
  print: (line: string) => void = (line) => console.log(line),
): Promise<GatewayAccess> {
  const file = path.join(settings.stateDir, TOKEN_FILE);
  const configured = settings.gateway.token;
  let token: string | null = configured !== null && configured !== "" ? configured : null;
  let origin: GatewayAccess["origin"] = token === null ? "none" : "configured";
  if (token === null) {
    const saved = await fs.readFile(file, "utf8").then(
      (text) => text.trim(),
      () => "",
    );
    if (saved !== "") {
      token = saved;
      origin = "state";
    }
  }
  const wanted = settings.gateway.host;
  if (token === null && wanted !== AUTO_HOST && !isLoopback(wanted)) {
    token = randomBytes(24).toString("base64url");
    await writeFileAtomic(file, `${token}\n`);
    await fs.chmod(file, 0o600);
    origin = "generated";
    print(
      `piPDU gateway token (generated now, saved in ${file}; switching over HTTP and PDUDaemon needs it): ${token}`,
    );
  }
  const host = wanted === AUTO_HOST ? (token === null ? "127.0.0.1" : "0.0.0.0") : wanted;
  return { token, host, origin, file };
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (net.isIPv4(host)) return host.startsWith("127.");
  return host === "::1";
}

// What every piPDU HTTP server (the gateway, the simulated panel) checks before anything else, so that no
// web page a browser opens elsewhere can use it:
// - a browser's request must name this server in its Host header (an IP address, localhost, the machine's
//   host name, or a configured name): a DNS-rebinding page, whose requests carry its own host name, reads
//   nothing. Programs (no Origin, no Sec-Fetch-*, no "Mozilla/" user agent) may use any name — a lab's
//   FQDN in a LAVA device dictionary keeps working; rebinding needs a browser;
// - a request that changes something must not come from another site: an Origin that is not this server's
//   own, `Sec-Fetch-Site` other than same-origin/none, or a foreign Referer is refused. Programs (pduclient,
//   labgrid, LAVA, curl, `pipdu client`) send none of these and are unaffected;
// - every response forbids framing (clickjacking) and content sniffing.
import type { IncomingMessage, ServerResponse } from "node:http";
import net from "node:net";
import os from "node:os";

export interface HttpGuardOptions {
  /** Names besides IP addresses, localhost and the host name: a DNS alias, a reverse proxy's name. */
  hosts?: readonly string[];
  /** Content-Security-Policy of the pages this server sends. */
  contentSecurityPolicy?: string;
  /** The machine's host name (tests pass one). */
  hostname?: string;
}

export const DEFAULT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export class HttpGuard {
  private readonly names: Set<string>;
  private readonly csp: string;

  constructor(options: HttpGuardOptions = {}) {
    const host = (options.hostname ?? os.hostname()).toLowerCase();
    const short = host.split(".")[0] ?? host;
    this.names = new Set(
      ["localhost", host, short, `${short}.local`, ...(options.hosts ?? [])].map((n) =>
        n.trim().toLowerCase().replace(/\.$/, ""),
      ),
    );
    this.csp = options.contentSecurityPolicy ?? DEFAULT_CSP;
  }

  /** Anti-framing, no sniffing, no referrer, no cross-origin embedding: set on every response. */
  secure(res: ServerResponse): void {
    res.setHeader("x-frame-options", "DENY");
    res.setHeader("content-security-policy", this.csp);
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "no-referrer");
    res.setHeader("cross-origin-resource-policy", "same-origin");
    res.setHeader("cross-origin-opener-policy", "same-origin");
  }

  /** Null when the Host header names this server, or the request is not a browser's; else why not. */
  hostProblem(req: IncomingMessage): string | null {
    const header = req.headers.host;
    if (header === undefined || !fromBrowser(req)) return null;
    const name = hostName(header);
    if (name === null) return "malformed Host header";
    if (net.isIP(name) !== 0 || this.names.has(name) || name.endsWith(".localhost")) return null;
    return `this server does not answer to the name "${name.slice(0, 60)}"; add it to the configured host names if it is yours`;
  }

  /** Null when the request may change something; else why a browser on another site sent it. */
  crossSiteProblem(req: IncomingMessage): string | null {
    const site = header(req, "sec-fetch-site");
    if (site !== undefined && site !== "same-origin" && site !== "none")
      return `request from another site (Sec-Fetch-Site: ${site.slice(0, 20)})`;
    const own = originHost(`http://${req.headers.host ?? ""}`);
    const origin = header(req, "origin");
    if (origin !== undefined) {
      if (origin === "null" || originHost(origin) !== own) return "request from another origin";
      return null;
    }
    const referer = header(req, "referer");
    if (referer !== undefined && originHost(referer) !== own) return "request from another site (Referer)";
    return null;
  }
}

/** Browsers send Sec-Fetch-* (all current ones) or Origin, and a user agent starting "Mozilla/"; programs do not. */
export function fromBrowser(req: IncomingMessage): boolean {
  return (
    header(req, "sec-fetch-site") !== undefined ||
    header(req, "sec-fetch-mode") !== undefined ||
    header(req, "origin") !== undefined ||
    /^Mozilla\//.test(header(req, "user-agent") ?? "")
  );
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The host name of a Host header ("[::1]:8080" → "::1", "Pdu.Lab.:80" → "pdu.lab"); null if malformed. */
function hostName(hostHeader: string): string | null {
  const text = hostHeader.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::[0-9]{1,5})?$/.exec(text);
  if (v6) return v6[1] ?? null;
  const m = /^([a-z0-9_.-]+?)\.?(?::[0-9]{1,5})?$/.exec(text);
  return m?.[1] ?? null;
}

/** "host:port" of an Origin or Referer as a Host header spells it; "" when unparsable. */
function originHost(value: string): string {
  try {
    return new URL(value).host.toLowerCase();
  } catch {
    return "";
  }
}

/** "a.example, b.example" → ["a.example", "b.example"]. */
export function splitHosts(list: string): string[] {
  return list
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
}

// The optional gateway token: when set, everything that switches needs it; reading stays open.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export class TokenCheck {
  private readonly digest: Buffer | null;

  constructor(token: string | null) {
    this.digest = token === null || token === "" ? null : hash(token);
  }

  get required(): boolean {
    return this.digest !== null;
  }

  /** True when no token is configured or the candidate matches it (compared in constant time). */
  accepts(candidate: string | undefined): boolean {
    if (this.digest === null) return true;
    if (candidate === undefined || candidate === "") return false;
    return timingSafeEqual(hash(candidate), this.digest);
  }
}

/** `Authorization: Bearer <token>` or `?token=` (for clients that cannot send headers). */
export function tokenOf(request: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = request.headers.authorization;
  const bearer = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return bearer?.[1] ?? query.get("token") ?? undefined;
}

function hash(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

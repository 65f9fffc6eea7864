import type { Dated, Expiry } from "./types.ts";

const FIELDS = ["expiresAt", "createdAt", "updatedAt"] as const;

/** A wire object with its RFC 3339 timestamps turned into Date. */
export function dated<T extends object>(wire: T): Dated<T> {
  const out = { ...wire } as Record<string, unknown>;
  for (const field of FIELDS) if (typeof out[field] === "string") out[field] = new Date(out[field] as string);
  return out as Dated<T>;
}

/** The TTL fields of a write body; a Date as RFC 3339. */
export function expiry({ ttlSeconds, expiresAt }: Expiry): { ttlSeconds?: number; expiresAt?: string } {
  return {
    ttlSeconds,
    expiresAt: expiresAt instanceof Date ? expiresAt.toISOString() : expiresAt,
  };
}

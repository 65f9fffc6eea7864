// How a stored row is shown to clients, and how a write's expiry is asked for.
import { MAX_TTL_SECONDS } from "../contract/schemas.ts";
import { fail } from "../errors.ts";
import { parseTimestamp } from "./timestamp.ts";
import { canonicalFromJsonb } from "./values.ts";

export type RecordRow = {
  key: string;
  /** the value's JSON text as it was written (value_json), as the read statements return it */
  value?: string | null;
  /** value is jsonb's text instead: value_json is absent or not of this revision */
  value_from_jsonb?: boolean;
  revision: number;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

/** A record as written responses and values=false lists show it: everything but the value. */
export type RecordMeta = {
  key: string;
  revision: number;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
};

/** A record with its value as JSON text, passed to the client without being parsed. */
export type StoredRecord = RecordMeta & { valueJson: string };

export const toMeta = (row: Omit<RecordRow, "value">): RecordMeta => ({
  key: row.key,
  revision: row.revision,
  expiresAt: row.expires_at?.toISOString() ?? null,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** Never jsonb's own rendering: a row without a text of its revision is canonicalised here. */
export const toRecord = (row: RecordRow): StoredRecord => ({
  ...toMeta(row),
  valueJson: row.value == null ? "null" : row.value_from_jsonb ? canonicalFromJsonb(row.value) : row.value,
});

export type ExpiryInput = { ttlSeconds?: number; expiresAt?: string };

/**
 * [ttl_seconds, expires_at] for the write statements; both null means the namespace's
 * default TTL, if any, else no expiry. expiresAt is checked against this server's clock
 * (in the future, at most a year ahead); expiry itself is always the database's clock.
 * Messages name the field; the caller names the item.
 */
export function expiryParams(input: ExpiryInput, now = Date.now()): [number | null, string | null] {
  const { ttlSeconds, expiresAt } = input;
  if (ttlSeconds !== undefined && expiresAt !== undefined) {
    throw fail("INVALID_REQUEST", "give ttlSeconds or expiresAt, not both");
  }
  if (expiresAt === undefined) return [ttlSeconds ?? null, null];
  const at = typeof expiresAt === "string" ? parseTimestamp(expiresAt) : undefined;
  if (at === undefined) {
    throw fail(
      "INVALID_REQUEST",
      "expiresAt must be an RFC 3339 date-time with a real date and time, like 2027-02-28T12:00:00Z",
    );
  }
  if (at <= now) throw fail("INVALID_REQUEST", "expiresAt must be in the future");
  if (at > now + MAX_TTL_SECONDS * 1000) throw fail("INVALID_REQUEST", "expiresAt may be at most one year ahead");
  return [null, new Date(at).toISOString()];
}

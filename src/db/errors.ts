// PostgreSQL and driver failures mapped to the contract's errors, in one place.
import { AppError } from "../errors.ts";

type PgLike = { code?: unknown; errno?: unknown };

const code = (error: unknown): string | undefined => {
  const value = (error as PgLike | null)?.code;
  return typeof value === "string" ? value : undefined;
};

/** Serialization failure and deadlock: the transaction may simply be run again. */
export const isRetryable = (error: unknown) => ["40001", "40P01"].includes(code(error) ?? "");

// postgres.js connection failures, and the SQLSTATE classes that mean the database is
// away, shutting down or overloaded rather than that the request was wrong.
const UNAVAILABLE_DRIVER = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "TRANSACTION_TIMEOUT", // db/client.ts: a transaction that did not settle within its limit
]);

export function mapDatabaseError(error: unknown): AppError | undefined {
  const c = code(error);
  if (c === undefined) return undefined;
  if (
    UNAVAILABLE_DRIVER.has(c) ||
    c.startsWith("08") || // connection exception
    c.startsWith("53") || // insufficient resources
    c.startsWith("57") || // operator intervention: shutdown, query canceled (timeout)
    c === "40001" ||
    c === "40P01" ||
    c === "55P03" // lock not available
  ) {
    return new AppError("UNAVAILABLE", "the database is unavailable or overloaded; retry", undefined, {
      "retry-after": "1",
    });
  }
  return undefined;
}

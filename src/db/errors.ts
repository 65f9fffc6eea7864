// PostgreSQL and driver failures mapped to the contract's errors, in one place.
import { type AppError, errors } from "../errors.ts";

type PgLike = { code?: unknown; syscall?: unknown; errors?: unknown };

const code = (error: unknown): string | undefined => {
  const value = (error as PgLike | null)?.code;
  return typeof value === "string" ? value : undefined;
};

/** Serialization failure and deadlock: the transaction may simply be run again. */
export const isRetryable = (error: unknown) => ["40001", "40P01"].includes(code(error) ?? "");

/** A connection that was found gone (closed, reset, its backend ended), as opposed to a
 * database that cannot be reached: the pool's next connection may well serve. */
export const isConnectionLost = (error: unknown) =>
  ["CONNECTION_CLOSED", "ECONNRESET", "EPIPE", "57P01", "57P02"].includes(code(error) ?? "");

// postgres.js's own connection failures (its other codes, such as UNDEFINED_VALUE or
// MAX_PARAMETERS_EXCEEDED, are mistakes in the calling code and stay 500), and the socket
// and name-resolution errnos, for such an error that arrives without its `syscall`.
const UNAVAILABLE_DRIVER = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "SASL_SIGNATURE_MISMATCH",
  "MESSAGE_NOT_SUPPORTED",
  "TRANSACTION_TIMEOUT", // db/client.ts: a transaction that did not settle within its limit
  // db/client.ts: a COMMIT sent whose outcome the database could not tell within the wait
  // (it was away, e.g. a Citus coordinator restarting): a 503, as docs/decisions.md says
  "TRANSACTION_OUTCOME_UNKNOWN",
  "ROLLED_BACK", // the driver: COMMIT answered ROLLBACK (nothing applied)
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NONAME",
  "EAI_NODATA",
]);

// A TLS handshake that failed (certificate, protocol): the database cannot be reached.
const TLS_FAILURE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;

// SQLSTATEs that mean the database is away, refusing, overloaded or read-only, never that
// the request was wrong.
function unavailableState(c: string): boolean {
  return (
    c.startsWith("08") || // connection exception, cannot connect now
    c.startsWith("28") || // the server refused our credentials: its set-up, not the request
    c.startsWith("53") || // insufficient resources: too many connections, disk full, memory
    c.startsWith("57") || // operator intervention: shutdown, cannot connect now, canceled (timeout)
    c.startsWith("58") || // system error: I/O on the server
    c === "3D000" || // the configured database does not exist (dropped, or not yet created)
    c === "25006" || // read_only_sql_transaction: a read-only server or standby
    c === "25P03" || // idle_in_transaction_session_timeout: the session was ended
    c === "25P04" || // transaction_timeout (PostgreSQL 17): the session was ended
    c === "40001" ||
    c === "40P01" ||
    c === "55P03" // lock not available
  );
}

// Citus at COMMIT, when the connection to the worker holding the shard failed then (a worker
// stopping under the write): raised without a SQLSTATE of its own (XX000). The coordinator's
// transaction is rolled back; as for any COMMIT whose answer was lost, the worker's part may
// have committed (docs/decisions.md, "A 503 means not applied", residual risk).
const CITUS_COMMIT_FAILED = /^could not commit transaction for shard \d+ on at least one active node$/;

/** Whether an error means the database cannot serve now (so: 503, retry), of any kind. */
export function isUnavailable(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const message = (error as { message?: unknown }).message;
  if (code(error) === "XX000" && typeof message === "string" && CITUS_COMMIT_FAILED.test(message)) return true;
  // a connection attempt to several addresses fails with all of their errors
  const inner = (error as PgLike).errors;
  if (Array.isArray(inner) && inner.some(isUnavailable)) return true;
  // a failed system call: on a request's path only the database socket makes any (connect,
  // getaddrinfo, read, write), whatever its errno
  if (typeof (error as PgLike).syscall === "string") return true;
  const c = code(error);
  if (c === undefined) return false;
  return UNAVAILABLE_DRIVER.has(c) || TLS_FAILURE.test(c) || (/^[0-9A-Z]{5}$/.test(c) && unavailableState(c));
}

// The service's SQL is fixed and tested against the migrated schema: a table, column or
// function it names that the database lacks means the database is behind this release (its
// migrations are pending, or were rolled back under it), not that the request was wrong.
// /readyz says "migrations are pending" meanwhile; requests answer 503 until the schema is
// current, and a retry then succeeds.
const SCHEMA_BEHIND = new Set(["42P01", "42703", "42883"]); // undefined table, column, function

/** Whether an error means the database's schema is behind the service's statements. */
export const isSchemaBehind = (error: unknown): boolean => SCHEMA_BEHIND.has(code(error) ?? "");

// SQLSTATEs that mean the request met the current data and cannot apply to it: 409 CONFLICT,
// with `details.reason` naming which (never the constraint or the SQL text).
const CONFLICT_STATES: Readonly<Record<string, { reason: string; message: string }>> = {
  "23505": {
    reason: "already_exists",
    message: "a concurrent request created the same entry; nothing was written, retry",
  },
};

export function mapDatabaseError(error: unknown): AppError | undefined {
  if (isUnavailable(error)) return errors.unavailable("the database is unavailable or overloaded; retry");
  if (isSchemaBehind(error)) {
    return errors.unavailable("the database's schema is not current (migrations pending); retry");
  }
  const conflict = CONFLICT_STATES[code(error) ?? ""];
  return conflict === undefined ? undefined : errors.conflict(conflict.reason, conflict.message);
}

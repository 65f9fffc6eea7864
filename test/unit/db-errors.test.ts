// The one map from database and driver failures to the contract's errors: every kind that
// means "the database cannot serve now" is 503 UNAVAILABLE with Retry-After; mistakes in the
// calling code stay unmapped (500). The integration test (faults-unavailable.test.ts) meets
// the kinds it can produce for real; this covers the ones a test machine cannot, such as a
// name lookup that times out (EAI_AGAIN) or a server in recovery.
import { describe, expect, test } from "bun:test";
import { isUnavailable, mapDatabaseError } from "../../src/db/errors.ts";

/** A failed system call as Bun and Node report it. */
const systemError = (code: string, syscall: string) =>
  Object.assign(new Error(`${syscall} ${code} db.internal`), { code, syscall, errno: -1 });
/** An error the server sent, as postgres.js reports it. */
const serverError = (code: string) => Object.assign(new Error("server error"), { code, severity: "FATAL" });
/** postgres.js's own errors carry a code and no syscall. */
const driverError = (code: string) => Object.assign(new Error(`write ${code} db:5432`), { code, errno: code });

describe("503 UNAVAILABLE, with Retry-After", () => {
  const cases: Array<[string, unknown]> = [
    ["name lookup timed out", systemError("EAI_AGAIN", "getaddrinfo")],
    ["name does not exist", systemError("ENOTFOUND", "getaddrinfo")],
    ["name lookup failed", systemError("EAI_FAIL", "getaddrinfo")],
    ["connection refused", systemError("ECONNREFUSED", "connect")],
    ["connection reset", systemError("ECONNRESET", "read")],
    ["host unreachable", systemError("EHOSTUNREACH", "connect")],
    ["network unreachable", systemError("ENETUNREACH", "connect")],
    ["unix socket missing", systemError("ENOENT", "connect")],
    ["an errno this list never heard of, from a system call", systemError("ESOMETHINGNEW", "connect")],
    ["the same without syscall", driverError("EAI_AGAIN")],
    ["every address refused", new AggregateError([systemError("ECONNREFUSED", "connect")], "connect failed")],
    ["connect timeout", driverError("CONNECT_TIMEOUT")],
    ["connection closed", driverError("CONNECTION_CLOSED")],
    ["connection ended", driverError("CONNECTION_ENDED")],
    ["connection destroyed", driverError("CONNECTION_DESTROYED")],
    ["transaction bound", driverError("TRANSACTION_TIMEOUT")],
    ["commit outcome unknown", driverError("TRANSACTION_OUTCOME_UNKNOWN")],
    ["TLS certificate refused", driverError("DEPTH_ZERO_SELF_SIGNED_CERT")],
    ["TLS host name mismatch", driverError("ERR_TLS_CERT_ALTNAME_INVALID")],
    ["too many connections", serverError("53300")],
    [
      "Citus: a worker's connection failed at COMMIT",
      Object.assign(new Error("could not commit transaction for shard 102494 on at least one active node"), {
        code: "XX000",
      }),
    ],
    ["disk full", serverError("53100")],
    ["out of memory", serverError("53200")],
    ["read-only transaction (a standby, a read-only server)", serverError("25006")],
    ["admin shutdown (pg_terminate_backend)", serverError("57P01")],
    ["crash shutdown", serverError("57P02")],
    ["cannot connect now (starting up, in recovery)", serverError("57P03")],
    ["statement timeout", serverError("57014")],
    ["connection failure", serverError("08006")],
    ["server rejected the connection", serverError("08004")],
    ["password authentication failed", serverError("28P01")],
    ["the database does not exist", serverError("3D000")],
    ["I/O error on the server", serverError("58030")],
    ["idle-in-transaction timeout ended the session", serverError("25P03")],
    ["lock not available", serverError("55P03")],
    ["serialization failure after the retries", serverError("40001")],
    ["deadlock after the retries", serverError("40P01")],
  ];
  for (const [what, error] of cases) {
    test(what, () => {
      const mapped = mapDatabaseError(error);
      expect([mapped?.status, mapped?.code, mapped?.headers?.["retry-after"]]).toEqual([503, "UNAVAILABLE", "1"]);
    });
  }
});

describe("a schema behind the service (migrations pending or rolled back): 503, not a bug", () => {
  for (const [what, state] of [
    ["undefined table", "42P01"],
    ["undefined column", "42703"],
    ["undefined function", "42883"],
  ] as const) {
    test(what, () => {
      expect(isUnavailable(serverError(state))).toBe(false);
      const mapped = mapDatabaseError(serverError(state));
      expect([mapped?.status, mapped?.code, mapped?.headers?.["retry-after"]]).toEqual([503, "UNAVAILABLE", "1"]);
      expect(mapped?.message).toContain("migrations pending");
    });
  }
});

describe("409 CONFLICT, with a reason", () => {
  test("unique violation", () => {
    const mapped = mapDatabaseError(serverError("23505"));
    expect([mapped?.status, mapped?.code, mapped?.details]).toEqual([409, "CONFLICT", { reason: "already_exists" }]);
    expect(isUnavailable(serverError("23505"))).toBe(false);
  });
});

describe("unmapped: a mistake in the request or the code, not the database being away", () => {
  const cases: Array<[string, unknown]> = [
    ["syntax error", serverError("42601")],
    ["invalid text representation", serverError("22P02")],
    ["a transaction misuse (not the read-only kind)", serverError("25001")],
    ["undefined parameter value", driverError("UNDEFINED_VALUE")],
    ["too many parameters", driverError("MAX_PARAMETERS_EXCEEDED")],
    ["a plain error", new Error("boom")],
    ["a TypeError", new TypeError("x is not a function")],
    ["another internal error", Object.assign(new Error("cache lookup failed for relation 1"), { code: "XX000" })],
    ["not an object", "CONNECTION_CLOSED"],
    ["nothing", undefined],
  ];
  for (const [what, error] of cases) {
    test(what, () => {
      expect(isUnavailable(error)).toBe(false);
      expect(mapDatabaseError(error)).toBeUndefined();
    });
  }
});

// A refusal of the write pipeline (plan.ts) as the contract's error: a request of one record
// (PUT, DELETE) and a bulk request (bulk-put, bulk-delete) are refused by the same decision
// but answer in their own shapes: a bulk request names every failing item by index, a
// request of one record names none.
import { type AppError, fail } from "../errors.ts";
import { summary, tooLargeOfMany, tooLargeOfOne } from "./items.ts";
import type { Refusal } from "./plan.ts";
import { quotaExceeded } from "./usage.ts";

const conflictOf = (reason: string, message: string) => fail("CONFLICT", message, { reason });

const SCHEMA_MESSAGE = "the value does not satisfy the namespace's schema; nothing was written";

/** The error of a PUT or DELETE of one record. */
export function refusalOfOne(refusal: Refusal): AppError {
  switch (refusal.kind) {
    case "too_large":
      return tooLargeOfOne(refusal.failed);
    case "schema":
      return fail("SCHEMA_VIOLATION", SCHEMA_MESSAGE, {
        errors: refusal.errors.map(({ path, message }) => ({ path, message })),
      });
    case "precondition":
      return fail("REVISION_MISMATCH", "the record's revision does not match the precondition", {
        currentRevision: refusal.failed[0]?.currentRevision ?? null,
      });
    case "conflict":
      return conflictOf(refusal.failed[0]?.reason ?? "conflict", refusal.failed[0]?.message ?? "conflict");
    case "not_found":
      return fail("NOT_FOUND", "no such record");
    case "quota":
      return quotaExceeded(refusal.breach);
  }
}

/** The error of a bulk request: every failing item by index. `done` is what did not
 * happen: "written" or "deleted". */
export function refusalOfMany(refusal: Refusal, done: "written" | "deleted"): AppError {
  switch (refusal.kind) {
    case "too_large":
      return tooLargeOfMany(refusal.failed);
    case "schema":
      return fail("SCHEMA_VIOLATION", SCHEMA_MESSAGE, { errors: refusal.errors });
    case "precondition":
      return fail("REVISION_MISMATCH", `a precondition failed; nothing was ${done}`, { failed: refusal.failed });
    case "conflict":
      return fail("CONFLICT", `${summary(refusal.failed)}; nothing was ${done}`, {
        reason: refusal.failed[0]?.reason ?? "conflict",
        failed: refusal.failed,
      });
    case "not_found":
      return fail("NOT_FOUND", `${summary(refusal.failed.map((f) => ({ ...f, message: "no such record" })))}`, {
        failed: refusal.failed,
      });
    case "quota":
      return quotaExceeded(refusal.breach);
  }
}

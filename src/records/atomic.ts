// POST /v1/atomic (contract section 14): checks and ops over any namespaces of the install,
// all or nothing, as one list of ops through the write pipeline (pipeline.ts) in one
// transaction. Checks come first in that list, as ops that change nothing; merges and
// increments are computed from the values read under the install's lock, so concurrent
// increments never lose an update. Every key the request writes gets the same new revision.
//
// Round trips: BEGIN; installs.lock + records.state_values pipelined; the plan's
// statements + installs.account pipelined; COMMIT = 4, whatever the number of ops (two of
// statements between BEGIN and COMMIT, as a bulk-put); one more to keep the answer when the
// request carries an Idempotency-Key, and two more when the quota asks for a sweep.
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { S } from "../contract/index.ts";
import type { Database } from "../db/client.ts";
import { type AppError, fail } from "../errors.ts";
import { type Remember, rememberVia } from "./idempotency.ts";
import type { Install } from "./install.ts";
import { collectFaults, type ItemFault } from "./items.ts";
import { checkKey, checkNamespace } from "./keys.ts";
import { parsePointer } from "./merge.ts";
import { type RequestOp, runWrite, type WriteResult } from "./pipeline.ts";
import type { Refusal } from "./plan.ts";
import { expiryParams } from "./record.ts";
import { type CleanupObserver, ignoreCleanup } from "./ttl.ts";
import { type LimitDefaults, quotaExceeded } from "./usage.ts";
import { MAX_VALUE_DEPTH, prepareValue, valueProblem } from "./values.ts";

export type AtomicItem = {
  namespace: string;
  key: string;
  revision: number | null;
  created: boolean;
  deleted: boolean;
};
export type AtomicResult = { items: AtomicItem[] };

type List = "checks" | "ops";
/** A failing check or op: where it is, and why. */
type Fault = ItemFault & { in: List; namespace?: string };

const checkShape = TypeCompiler.Compile(S.AtomicCheck);
const opShapes = {
  set: TypeCompiler.Compile(S.AtomicSet),
  delete: TypeCompiler.Compile(S.AtomicDelete),
  increment: TypeCompiler.Compile(S.AtomicIncrement),
  merge: TypeCompiler.Compile(S.AtomicMerge),
} as const;

type Shape = {
  Check(v: unknown): boolean;
  Errors(v: unknown): { First(): { path: string; message: string } | undefined };
};
function shaped(shape: Shape, item: unknown): void {
  if (shape.Check(item)) return;
  const first = shape.Errors(item).First();
  const field = first?.path ? first.path.slice(1) : "item";
  throw fail("INVALID_REQUEST", `${field}: ${first?.message ?? "does not match the schema"}`);
}

const named = (item: unknown) => {
  const i = item as { namespace?: unknown; key?: unknown } | null;
  return { namespace: i?.namespace, key: i?.key };
};

/** The namespace and key of a check or op, checked (INVALID_NAMESPACE / INVALID_KEY). */
function target(item: unknown): { namespace: string; key: string } {
  const { namespace, key } = named(item);
  return { namespace: checkNamespace(namespace as string), key: checkKey(key) };
}

function checkOf(item: unknown): RequestOp {
  shaped(checkShape, item);
  const c = item as S.AtomicCheck;
  const { namespace, key } = target(c);
  return c.revision === null
    ? { op: "check", namespace, key, ifAbsent: true }
    : { op: "check", namespace, key, ifRevision: c.revision };
}

function opOf(item: unknown, now: number): RequestOp {
  const kind = (item as { op?: unknown } | null)?.op;
  const shape =
    typeof kind === "string" && Object.hasOwn(opShapes, kind) ? opShapes[kind as keyof typeof opShapes] : undefined;
  if (shape === undefined) throw fail("INVALID_REQUEST", 'op: must be "set", "delete", "increment" or "merge"');
  shaped(shape, item);
  const op = item as S.AtomicOp;
  const { namespace, key } = target(op);
  switch (op.op) {
    case "set": {
      const value = prepareValue(key, op.value, Number.POSITIVE_INFINITY, "value");
      const [ttl, expiresAt] = expiryParams(op, now);
      return { op: "put", namespace, key, parsed: op.value, value, ttl, expiresAt };
    }
    case "delete":
      return { op: "delete", namespace, key };
    case "increment": {
      if (!Number.isFinite(op.by)) throw fail("INVALID_REQUEST", "by: must be a finite number");
      const path = parsePointer(op.path ?? "", "path");
      // each token of the path is an object level of the value
      if (path.length > MAX_VALUE_DEPTH) {
        throw fail(
          "INVALID_REQUEST",
          `path: at most ${MAX_VALUE_DEPTH} tokens (values nest at most ${MAX_VALUE_DEPTH} levels)`,
        );
      }
      return { op: "increment", namespace, key, path, by: op.by };
    }
    case "merge": {
      const problem = valueProblem(op.patch);
      if (problem !== undefined) throw fail("INVALID_REQUEST", `patch: ${problem}`);
      return { op: "merge", namespace, key, patch: op.patch };
    }
  }
}

/** Every failing check and op of a body whose envelope is valid, or its ops. */
export function prepareAtomic(
  body: { checks?: unknown[]; ops: unknown[] },
  now = Date.now(),
): { checks: RequestOp[]; ops: RequestOp[] } {
  const checkList = body.checks ?? [];
  const keyOf = (item: unknown) => named(item).key;
  const checks = collectFaults(checkList, keyOf, checkOf);
  const ops = collectFaults(body.ops, keyOf, (item) => opOf(item, now));
  // the same (namespace, key) in two ops: every repeat is named, with the op it repeats
  const first = new Map<string, number>();
  const repeats: ItemFault[] = [];
  ops.results.forEach((op, index) => {
    if (op === undefined) return;
    const slot = `${op.namespace}\u0000${op.key}`;
    const earlier = first.get(slot);
    if (earlier === undefined) first.set(slot, index);
    else
      repeats.push({
        index,
        key: op.key,
        code: "INVALID_REQUEST",
        message: `duplicate key: op ${earlier} writes the same key`,
      });
  });
  const faults: Fault[] = [
    ...checks.faults.map((f) => ({ ...f, in: "checks" as const, ...namespaceOf(checkList[f.index]) })),
    ...[...ops.faults, ...repeats].map((f) => ({ ...f, in: "ops" as const, ...namespaceOf(body.ops[f.index]) })),
  ];
  if (faults.length > 0) throw invalidAtomic(faults);
  return { checks: checks.results, ops: ops.results };
}

const namespaceOf = (item: unknown) => {
  const { namespace } = named(item);
  return typeof namespace === "string" ? { namespace } : {};
};

function invalidAtomic(faults: readonly Fault[]): AppError {
  const order = (f: Fault) => (f.in === "checks" ? 0 : 1);
  const failed = [...faults].sort((a, b) => order(a) - order(b) || a.index - b.index);
  const codes = new Set(failed.map((f) => f.code));
  const code = codes.size === 1 ? ([...codes][0] ?? "INVALID_REQUEST") : "INVALID_REQUEST";
  const [head] = failed;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more, see details.failed)` : "";
  return fail(
    code,
    `${head?.in === "checks" ? "check" : "op"} ${head?.index}: ${head?.message}${more}; nothing was done`,
    {
      failed,
    },
  );
}

/** A refusal of the pipeline (indexes over checks then ops) as the atomic request's error. */
function refusalOfAtomic(refusal: Refusal, all: readonly RequestOp[], checkCount: number): AppError {
  const where = (index: number) => {
    const op = all[index];
    const place =
      index < checkCount ? { in: "checks" as const, index } : { in: "ops" as const, index: index - checkCount };
    return { ...place, namespace: op?.namespace ?? "", key: op?.key ?? "" };
  };
  const line = (f: { in: List; index: number }, message: string) =>
    `${f.in === "checks" ? "check" : "op"} ${f.index}: ${message}`;
  switch (refusal.kind) {
    case "too_large": {
      const failed = refusal.failed.map((f) => ({
        ...where(f.index),
        limit: f.limit,
        size: f.size,
        message: `the value is ${f.size} bytes, over the limit of ${f.limit}`,
      }));
      return fail(
        "VALUE_TOO_LARGE",
        `${line(failed[0] as (typeof failed)[0], failed[0]?.message ?? "")}; nothing was written`,
        {
          failed,
        },
      );
    }
    case "schema":
      return fail("SCHEMA_VIOLATION", "a value does not satisfy its namespace's schema; nothing was written", {
        errors: refusal.errors.map((e) => ({ ...where(e.index), path: e.path, message: e.message })),
      });
    case "precondition": {
      const failed = refusal.failed.map((f) => ({ ...where(f.index), currentRevision: f.currentRevision }));
      return fail("REVISION_MISMATCH", "a check or precondition failed; nothing was written", { failed });
    }
    case "conflict": {
      const failed = refusal.failed.map((f) => ({ ...where(f.index), reason: f.reason, message: f.message }));
      return fail(
        "CONFLICT",
        `${line(failed[0] as (typeof failed)[0], failed[0]?.message ?? "")}; nothing was written`,
        {
          reason: "operation_conflict",
          failed,
        },
      );
    }
    case "not_found":
      return fail("NOT_FOUND", "no such record", { failed: refusal.failed.map((f) => where(f.index)) });
    case "quota":
      return quotaExceeded(refusal.breach);
  }
}

/** POST /v1/atomic: see the top of this file. */
export async function atomic(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  body: { checks?: unknown[]; ops: unknown[] },
  observe: CleanupObserver = ignoreCleanup,
  remember?: Remember<AtomicResult>,
): Promise<AtomicResult> {
  const { checks, ops } = prepareAtomic(body);
  const all = [...checks, ...ops];
  const resultOf = (result: WriteResult): AtomicResult => {
    if (!result.ok) throw refusalOfAtomic(result.refusal, all, checks.length);
    return {
      items: result.results.slice(checks.length).map((r) => ({
        namespace: r.namespace,
        key: r.key,
        revision: r.revision,
        created: r.created,
        deleted: r.deleted,
      })),
    };
  };
  const result = await runWrite(
    db,
    defaults,
    install,
    { ops: all, trigger: "bulk_put", revisions: "shared" },
    observe,
    rememberVia(remember, resultOf),
  );
  return resultOf(result);
}

// The write pipeline's decision: the stored state read under the install's lock, and a
// request (a list of ops) → a plan to apply, a sweep to run first, or a refusal. Pure: no
// I/O, no clock, no thrown errors; unit-tested without a database (test/unit/plan.test.ts).
//
// Every request that changes records is a list of ops through this one function: a PUT is
// one put op, a bulk-put many, a DELETE one delete op that must find its key, a bulk-delete
// many that need not. Ops carry their namespace, so one request may touch several
// namespaces of the install. Decisions come in the contract's order: 413 value too large
// for its namespace, 422 schema, 412 precondition, 404 (a delete that must find its key),
// 403 quota. Refusals are data naming every failing op by index; the caller renders them
// (a PUT's shapes are not a bulk-put's).
import { type Limits, type QuotaBreach, quotaBreach } from "./usage.ts";
import type { PreparedValue } from "./values.ts";

export type PutOp = {
  op: "put";
  namespace: string;
  key: string;
  /** the value as parsed (what the namespace's schema checks) */
  parsed: unknown;
  /** the value serialized and sized */
  value: PreparedValue;
  /** the write's ttlSeconds, or null */
  ttl: number | null;
  /** the write's expiresAt (ISO), or null; both null: the namespace's default TTL */
  expiresAt: string | null;
  ifRevision?: number;
  ifAbsent?: boolean;
  /** ttl and expiresAt are the stored record's expiry, kept as they are (a merge patch or an
   * increment of a live record): no namespace default applies */
  keepExpiry?: boolean;
};
export type DeleteOp = {
  op: "delete";
  namespace: string;
  key: string;
  ifRevision?: number;
  /** absent (or expired) is a 404, not a no-op (DELETE of one record) */
  mustExist?: boolean;
};
/** A precondition that changes nothing (an atomic request's check): live at ifRevision, or
 * absent with ifAbsent. */
export type CheckOp = {
  op: "check";
  namespace: string;
  key: string;
  ifRevision?: number;
  ifAbsent?: boolean;
  /** absent (or expired) is a 404 (a PATCH of a record that is not there) */
  mustExist?: boolean;
};
/** An op whose new value could not be computed from the stored one (an increment of a
 * string): refused with a 409 once every precondition holds. */
export type ConflictOp = {
  op: "conflict";
  namespace: string;
  key: string;
  reason: string;
  message: string;
  ifRevision?: number;
};
export type Op = PutOp | DeleteOp | CheckOp | ConflictOp;

/** The row stored for an op's key when the state was read: live, expired, or none. */
export type Stored = { revision: number | null; sizeBytes: number | null; live: boolean | null };
/** A namespace's schema settings (all null when it has no schema). */
export type NamespaceSettings = {
  schemaVersion: number | null;
  defaultTtlSeconds: number | null;
  maxValueBytes: number | null;
};

export type State = {
  /** per op, in op order */
  stored: readonly Stored[];
  namespaces: ReadonlyMap<string, NamespaceSettings>;
  /** the install's stored figures and counter (expired rows not yet cleaned included) */
  usage: { bytes: number; records: number; lastRevision: number };
  limits: Limits;
  /** whether the install's expired rows have been swept since the state was read */
  swept: boolean;
};

/** A namespace's schema check: the violations of a value, none when it is valid. */
export type Check = (value: unknown) => Array<{ path: string; message: string }>;
export type Checks = ReadonlyMap<string, Check>;

export type Refusal =
  | { kind: "too_large"; failed: Array<{ index: number; key: string; limit: number; size: number }> }
  | { kind: "schema"; errors: Array<{ index: number; path: string; message: string }> }
  | { kind: "precondition"; failed: Array<{ index: number; key: string; currentRevision: number | null }> }
  | { kind: "conflict"; failed: Array<{ index: number; key: string; reason: string; message: string }> }
  | { kind: "not_found"; failed: Array<{ index: number; key: string }> }
  | { kind: "quota"; breach: QuotaBreach };

export type PlannedPut = {
  namespace: string;
  key: string;
  json: string;
  sizeBytes: number;
  revision: number;
  ttl: number | null;
  expiresAt: string | null;
};
/** A stored row to delete, with the revision its delete takes and whether it had expired
 * (the change feed shows that as reason expired). */
export type PlannedDelete = { namespace: string; key: string; sizeBytes: number; revision: number; expired: boolean };

/** What each op did, in op order: its new revision (null when it changed nothing). */
export type OpOutcome = {
  op: Op["op"];
  namespace: string;
  key: string;
  revision: number | null;
  /** a put that made a new record (no live row before) */
  created: boolean;
  /** a delete that removed a live record */
  deleted: boolean;
};

export type Plan = {
  puts: PlannedPut[];
  deletes: PlannedDelete[];
  outcomes: OpOutcome[];
  /** what the plan adds to the install's usage (either may be negative) */
  delta: { bytes: number; records: number };
  /** the install's counter after the plan: one revision per row changed */
  lastRevision: number;
  /** expired rows of the put ops' keys that the plan replaces (cleanup) */
  replacedExpired: number;
};

export type Decision =
  | { kind: "apply"; plan: Plan }
  | { kind: "refuse"; refusal: Refusal }
  /** the quota would be crossed on stored figures: sweep the install's expired rows, read
   * the state again and decide again */
  | { kind: "sweep" };

/** The value size limit in force in a namespace: a schema may lower the service's. */
export const valueLimit = (limits: Limits, settings: NamespaceSettings | undefined) =>
  Math.min(limits.maxValueBytes, settings?.maxValueBytes ?? Number.POSITIVE_INFINITY);

/** 413: every put whose value is over its namespace's limit. */
export function tooLarge(
  ops: readonly Op[],
  namespaces: ReadonlyMap<string, NamespaceSettings>,
  limits: Limits,
): Refusal | undefined {
  const failed = ops.flatMap((op, index) => {
    if (op.op !== "put") return [];
    const limit = valueLimit(limits, namespaces.get(op.namespace));
    const size = op.value.valueBytes;
    return size > limit ? [{ index, key: op.key, limit, size }] : [];
  });
  return failed.length > 0 ? { kind: "too_large", failed } : undefined;
}

const currentOf = (s: Stored | undefined) => (s?.live ? s.revision : null);

/** What the ops add to usage. With liveOnly, expired rows count as absent, as they do to
 * the quota; otherwise they count as stored, as they do to the stored figures. */
function deltaOf(ops: readonly Op[], stored: readonly Stored[], liveOnly: boolean) {
  let bytes = 0;
  let records = 0;
  ops.forEach((op, index) => {
    const s = stored[index];
    const size = liveOnly && s?.live !== true ? null : (s?.sizeBytes ?? null);
    if (op.op === "put") {
      bytes += op.value.sizeBytes - (size ?? 0);
      if (size === null) records += 1;
    } else if (op.op === "delete" && size !== null) {
      bytes -= size;
      records -= 1;
    }
  });
  return { bytes, records };
}

/** How a plan numbers its changes: one revision per row changed (every request but an
 * atomic one), or one new revision shared by every key the request writes (an atomic
 * request: its keys change together). */
export type Revisions = "per_change" | "shared";

/** Decides a request on the state read under the install's lock. */
export function decide(
  ops: readonly Op[],
  state: State,
  checks: Checks,
  revisions: Revisions = "per_change",
): Decision {
  const refuse = (refusal: Refusal): Decision => ({ kind: "refuse", refusal });

  const large = tooLarge(ops, state.namespaces, state.limits);
  if (large !== undefined) return refuse(large);

  const errors = ops.flatMap((op, index) => {
    const check = op.op === "put" ? checks.get(op.namespace) : undefined;
    return check === undefined || op.op !== "put" ? [] : check(op.parsed).map((v) => ({ index, ...v }));
  });
  if (errors.length > 0) return refuse({ kind: "schema", errors });

  // expired rows are absent to every precondition
  const failed = ops.flatMap((op, index) => {
    const current = currentOf(state.stored[index]);
    const ok =
      op.ifRevision !== undefined
        ? current === op.ifRevision
        : (op.op === "put" || op.op === "check") && op.ifAbsent === true
          ? current === null
          : true;
    return ok ? [] : [{ index, key: op.key, currentRevision: current }];
  });
  if (failed.length > 0) return refuse({ kind: "precondition", failed });

  const conflicts = ops.flatMap((op, index) =>
    op.op === "conflict" ? [{ index, key: op.key, reason: op.reason, message: op.message }] : [],
  );
  if (conflicts.length > 0) return refuse({ kind: "conflict", failed: conflicts });

  const missing = ops.flatMap((op, index) =>
    (op.op === "delete" || op.op === "check") && op.mustExist === true && currentOf(state.stored[index]) === null
      ? [{ index, key: op.key }]
      : [],
  );
  if (missing.length > 0) return refuse({ kind: "not_found", failed: missing });

  // 403 on live usage. The first look counts an op's expired row as absent (it is, to the
  // quota), so a write that replaces one cannot slip past a lowered limit because its stored
  // figures do not rise; stored usage still holds the expired rows, so this look can only
  // err towards a sweep, after which the decision is exact.
  const used = { bytes: state.usage.bytes, records: state.usage.records };
  const delta = deltaOf(ops, state.stored, false);
  if (state.swept) {
    const breach = quotaBreach(used, delta, state.limits);
    if (breach !== undefined) return refuse({ kind: "quota", breach });
  } else if (quotaBreach(used, deltaOf(ops, state.stored, true), state.limits) !== undefined) {
    return { kind: "sweep" };
  }

  return { kind: "apply", plan: planOf(ops, state, delta, revisions) };
}

function planOf(ops: readonly Op[], state: State, delta: Plan["delta"], revisions: Revisions): Plan {
  const plan: Plan = {
    puts: [],
    deletes: [],
    outcomes: [],
    delta,
    lastRevision: state.usage.lastRevision,
    replacedExpired: 0,
  };
  const shared = state.usage.lastRevision + 1;
  const next = () => {
    if (revisions === "per_change") return ++plan.lastRevision;
    plan.lastRevision = shared;
    return shared;
  };
  ops.forEach((op, index) => {
    const s = state.stored[index];
    const live = s?.live === true;
    const outcome = { op: op.op, namespace: op.namespace, key: op.key };
    if (op.op === "check") {
      plan.outcomes.push({ ...outcome, revision: null, created: false, deleted: false });
    } else if (op.op === "conflict") {
      throw new Error("a conflicting op reached the plan");
    } else if (op.op === "put") {
      if (s?.live === false) plan.replacedExpired += 1;
      const revision = next();
      const defaultTtl = state.namespaces.get(op.namespace)?.defaultTtlSeconds ?? null;
      plan.puts.push({
        namespace: op.namespace,
        key: op.key,
        json: op.value.json,
        sizeBytes: op.value.sizeBytes,
        revision,
        ttl: op.keepExpiry === true ? op.ttl : (op.ttl ?? (op.expiresAt === null ? defaultTtl : null)),
        expiresAt: op.expiresAt,
      });
      plan.outcomes.push({ ...outcome, revision, created: !live, deleted: false });
    } else if (s !== undefined && s.sizeBytes !== null) {
      // a stored row, live or expired, is deleted and takes a revision
      const revision = next();
      plan.deletes.push({ namespace: op.namespace, key: op.key, sizeBytes: s.sizeBytes, revision, expired: !live });
      plan.outcomes.push({ ...outcome, revision, created: false, deleted: live });
    } else {
      plan.outcomes.push({ ...outcome, revision: null, created: false, deleted: false });
    }
  });
  return plan;
}

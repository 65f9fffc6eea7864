// The write pipeline: runs a request (a list of ops, plan.ts) in one transaction behind the
// install's lock: read the state, decide (pure), apply. PUT, bulk-put, DELETE and
// bulk-delete all come through here; what differs between them is their ops and how their
// caller renders a refusal.
//
// Round trips: BEGIN; installs.lock + records.state pipelined; the plan's statements
// (records.upsert, records.delete, as the plan needs) + installs.account (with the change
// feed's wake-up) pipelined; COMMIT = 4, whatever the op count. Both statements record
// their changes in the change feed themselves (ext_storage_changes), so every write through
// here is in the feed, in its transaction. Only a request that would cross a quota pays more: one to
// sweep the install's expired rows and one to read the state again, before it is decided
// for good.
//
// Where the coming features plug in: a merge patch (PATCH, an atomic merge or increment)
// is a put op whose value is resolved from the stored value read with the state, under the
// lock, before decide(); an atomic request is its checks and ops through this same path,
// its ops naming any namespaces of the install.
import type { Database, Queryable } from "../db/client.ts";
import type { CleanupTrigger } from "../metrics.ts";
import { account, type Install, type UsageRow, writeInInstall } from "./install.ts";
import {
  type Checks,
  decide,
  type NamespaceSettings,
  type Op,
  type OpOutcome,
  type Plan,
  type Refusal,
  type State,
  tooLarge,
} from "./plan.ts";
import { validatorFor, violations } from "./schemas.ts";
import type { CleanupObserver } from "./ttl.ts";
import { type LimitDefaults, limitsOf } from "./usage.ts";
import type { SchemaLimits } from "./validator.ts";

export type WriteRequest = {
  ops: readonly Op[];
  /** the cleanup trigger under which expired rows replaced by put ops are counted (a
   * request with put ops names one) */
  trigger?: CleanupTrigger;
};

/** What a put op wrote, as records.upsert returns it. */
export type WrittenRow = { expiresAt: Date | null; createdAt: Date; updatedAt: Date };
export type OpResult = OpOutcome & { written?: WrittenRow };

export type WriteResult = { ok: true; results: OpResult[] } | { ok: false; refusal: Refusal };

type StateRow = {
  namespace: string;
  key: string;
  revision: number | null;
  size_bytes: number | null;
  live: boolean | null;
  schema_version: number | null;
  default_ttl_seconds: number | null;
  max_value_bytes: number | null;
};
type UpsertRow = {
  namespace: string;
  key: string;
  revision: number;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
};
type DeletedRow = { namespace: string; key: string; size_bytes: number };
type SweepRow = { cleaned: number; bytes: number; last_revision: number | null };

/** A refusal on its way out of the transaction, so that it rolls back. */
class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(`refused: ${refusal.kind}`);
  }
}

const namespacesOf = (rows: readonly StateRow[]): Map<string, NamespaceSettings> =>
  new Map(
    rows.map((r) => [
      r.namespace,
      { schemaVersion: r.schema_version, defaultTtlSeconds: r.default_ttl_seconds, maxValueBytes: r.max_value_bytes },
    ]),
  );

const slot = (namespace: string, key: string) => `${namespace}\u0000${key}`;

/** The schema checks of the namespaces the put ops write, at the versions in force now (the
 * install's lock keeps them in force until commit). */
async function checksFor(
  q: Queryable,
  limits: SchemaLimits,
  install: Install,
  ops: readonly Op[],
  namespaces: ReadonlyMap<string, NamespaceSettings>,
): Promise<Checks> {
  const checks = new Map<string, (value: unknown) => Array<{ path: string; message: string }>>();
  for (const namespace of new Set(ops.filter((op) => op.op === "put").map((op) => op.namespace))) {
    const version = namespaces.get(namespace)?.schemaVersion ?? null;
    if (version === null) continue;
    const validate = await validatorFor(q, limits, install, namespace, version);
    checks.set(namespace, (value) => (validate(value) ? [] : violations(validate.errors)));
  }
  return checks;
}

export async function runWrite(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  request: WriteRequest,
  observe: CleanupObserver,
): Promise<WriteResult> {
  const { ops } = request;
  const stateParams = [install.installId, install.tenantId, ops.map((op) => op.namespace), ops.map((op) => op.key)];
  // 413 comes before every decision taken under the lock (and before a 403 for an install
  // of another tenant): when a value is over the service's limit, one read of the
  // namespaces' limits names every value over them, without the install's lock
  if (ops.some((op) => op.op === "put" && op.value.valueBytes > defaults.maxValueBytes)) {
    const rows = await db.run<StateRow>("records.state", stateParams);
    const refusal = tooLarge(ops, namespacesOf(rows), limitsOf(undefined, defaults));
    if (refusal !== undefined) return { ok: false, refusal };
  }

  let cleaned = { replaced: 0, swept: 0 };
  try {
    const results = await writeInInstall(db, install, async (q, lock) => {
      const readState = () => q.run<StateRow>("records.state", stateParams);
      const statePending = readState(); // sent together with the lock
      const usage: UsageRow = await lock;
      const rows = await statePending;
      const limits = limitsOf(usage, defaults);
      const namespaces = namespacesOf(rows);
      const checks =
        tooLarge(ops, namespaces, limits) === undefined
          ? await checksFor(q, defaults, install, ops, namespaces)
          : new Map();
      const stateOf = (stored: readonly StateRow[], swept: SweepRow | undefined): State => ({
        stored: stored.map((r) => ({ revision: r.revision, sizeBytes: r.size_bytes, live: r.live })),
        namespaces,
        usage: {
          bytes: usage.bytes_used - (swept?.bytes ?? 0),
          records: usage.record_count - (swept?.cleaned ?? 0),
          // each row swept took a revision
          lastRevision: usage.last_revision + (swept?.cleaned ?? 0),
        },
        limits,
        swept: swept !== undefined,
      });

      let swept: SweepRow | undefined;
      let decision = decide(ops, stateOf(rows, undefined), checks);
      if (decision.kind === "sweep") {
        [swept] = await q.run<SweepRow>("installs.sweep_expired", [install.installId, install.tenantId]);
        swept ??= { cleaned: 0, bytes: 0, last_revision: usage.last_revision };
        decision = decide(ops, stateOf(await readState(), swept), checks);
      }
      if (decision.kind === "refuse") throw new Refused(decision.refusal);
      if (decision.kind === "sweep") throw new Error("the write pipeline asked to sweep twice");
      const applied = await apply(q, install, decision.plan, swept);
      cleaned = { replaced: decision.plan.replacedExpired, swept: swept?.cleaned ?? 0 };
      return applied;
    });
    if (request.trigger !== undefined) observe(request.trigger, install, cleaned.replaced);
    observe("quota", install, cleaned.swept);
    return { ok: true, results };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, refusal: error.refusal };
    throw error;
  }
}

/** The plan's statements and its accounting, pipelined: one round trip. The usage change is
 * the plan's (sizes read under the lock) plus the rows swept on the way; records.delete
 * returns what it deleted, which must be what the plan said. */
async function apply(q: Queryable, install: Install, plan: Plan, swept: SweepRow | undefined): Promise<OpResult[]> {
  const scope = [install.installId, install.tenantId];
  const { puts, deletes } = plan;
  const change = {
    bytes: plan.delta.bytes - (swept?.bytes ?? 0),
    records: plan.delta.records - (swept?.cleaned ?? 0),
    lastRevision: plan.lastRevision,
  };
  const changed = puts.length > 0 || deletes.length > 0 || (swept?.cleaned ?? 0) > 0;
  const [written, deleted] = await Promise.all([
    puts.length === 0
      ? []
      : q.run<UpsertRow>("records.upsert", [
          ...scope,
          install.extensionId,
          puts.map((p) => p.namespace),
          puts.map((p) => p.key),
          puts.map((p) => p.json),
          puts.map((p) => p.revision),
          puts.map((p) => p.sizeBytes),
          puts.map((p) => p.ttl),
          puts.map((p) => p.expiresAt),
        ]),
    deletes.length === 0
      ? []
      : q.run<DeletedRow>("records.delete", [
          ...scope,
          deletes.map((d) => d.namespace),
          deletes.map((d) => d.key),
          deletes.map((d) => d.revision),
          deletes.map((d) => d.expired),
        ]),
    changed ? account(q, install, change) : undefined,
  ]);
  const deletedBytes = deleted.reduce((sum, d) => sum + d.size_bytes, 0);
  if (deleted.length !== deletes.length || deletedBytes !== deletes.reduce((sum, d) => sum + d.sizeBytes, 0)) {
    throw new Error("records.delete deleted other rows than the plan read under the install's lock");
  }
  const bySlot = new Map(written.map((r) => [slot(r.namespace, r.key), r]));
  return plan.outcomes.map((outcome) => {
    if (outcome.op !== "put") return outcome;
    const row = bySlot.get(slot(outcome.namespace, outcome.key));
    if (row === undefined) throw new Error("records.upsert did not write every item");
    return { ...outcome, written: { expiresAt: row.expires_at, createdAt: row.created_at, updatedAt: row.updated_at } };
  });
}

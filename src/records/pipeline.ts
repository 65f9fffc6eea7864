// The write pipeline: runs a request (a list of ops, plan.ts) in one transaction behind the
// install's lock: read the state, decide (pure), apply. PUT, bulk-put, DELETE and
// bulk-delete all come through here; what differs between them is their ops and how their
// caller renders a refusal. Top-down: runWrite; the transaction it runs in (writeInInstall:
// the install's lock, COMMIT pipelined, an Idempotency-Key's answer kept); its steps in the
// order it takes them; last account(), the one place a request's usage and revisions change.
// A schema's put and delete and a namespace's delete run in writeInInstall too; an import
// and a list's sweep account through account().
//
// Round trips: 2, whatever the op count (test/integration/round-trips.test.ts): BEGIN +
// transactions.identity + installs.lock + records.state pipelined; then the plan's
// statements (records.upsert, records.delete, as the plan needs) + installs.account (with
// the change feed's wake-up) + COMMIT pipelined. With an Idempotency-Key, 3: the answer is
// kept (idempotency.put) with COMMIT, after the plan's statements answered. Both statements
// record their changes in the change feed themselves (ext_storage_changes), so every write
// through here is in the feed, in its transaction. Only a request that would cross a quota
// pays more: one to sweep the install's expired rows and one to read the state again,
// before it is decided for good; and a put to a namespace this process has not written yet,
// one to read its schema version (schemas.get), so that its values are validated before the
// transaction.
//
// Schema validation runs before the transaction, against the namespace's last known schema
// version, in turns of the event loop; under the lock the version is read again and the
// results stand when it is the same (else the values are validated there). Validation is
// bounded per value (50 ms), not per request: a bulk of 500 values may take seconds, and
// neither the install's lock nor the transaction's time bound waits for it.
//
// Where the coming features plug in: a merge patch (PATCH, an atomic merge or increment)
// is a put op whose value is resolved from the stored value read with the state, under the
// lock, before decide(); an atomic request is its checks and ops through this same path,
// its ops naming any namespaces of the install.
import type { ValidateFunction } from "ajv";
import { BoundedMap } from "../bounded-map.ts";
import { type Database, type Queryable, sentAhead } from "../db/client.ts";
import { fail } from "../errors.ts";
import type { CleanupTrigger } from "../metrics.ts";
import { BYTES_PER_TURN, MS_PER_TURN, nextTurn } from "../turns.ts";
import { chargeValidation } from "../work-meter.ts";
import { keep, lookUp, type Remember, rememberVia, replayOf } from "./idempotency.ts";
import type { Install, UsageRow } from "./install.ts";
import { increment, mergePatch } from "./merge.ts";
import {
  type CheckOp,
  type Checks,
  type ConflictOp,
  decide,
  type NamespaceSettings,
  type Op,
  type OpOutcome,
  type Plan,
  type PutOp,
  type Refusal,
  type Revisions,
  type State,
  tooLarge,
} from "./plan.ts";
import { validatorFor } from "./schema-cache.ts";
import type { CleanupObserver } from "./ttl.ts";
import { type LimitDefaults, limitsOf } from "./usage.ts";
import { type SchemaLimits, violations } from "./validator.ts";
import { prepareValue } from "./values.ts";

/** A JSON Merge Patch of the stored value (PATCH, an atomic merge): on null when absent,
 * unless mustExist (PATCH: absent is a 404). */
export type MergeOp = {
  op: "merge";
  namespace: string;
  key: string;
  patch: unknown;
  ifRevision?: number;
  mustExist?: boolean;
};
/** An increment of the number at a JSON Pointer (already split into its tokens). */
export type IncrementOp = { op: "increment"; namespace: string; key: string; path: readonly string[]; by: number };
/** What a request asks: ops of the plan, and ops whose value is computed from the stored
 * one under the install's lock before the plan is decided. */
export type RequestOp = Op | MergeOp | IncrementOp;

export type WriteRequest = {
  ops: readonly RequestOp[];
  /** the cleanup trigger under which expired rows replaced by put ops are counted (a
   * request with put ops names one) */
  trigger?: CleanupTrigger;
  /** one revision per change, or one shared by every key written (atomic) */
  revisions?: Revisions;
};

/** What a put op wrote, as records.upsert returns it, and the value's JSON text. */
export type WrittenRow = { expiresAt: Date | null; createdAt: Date; updatedAt: Date; valueJson: string };
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
type ValuedStateRow = StateRow & { value: string | null; expires_at: Date | null };
type UpsertRow = {
  namespace: string;
  key: string;
  revision: number;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
};
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

const isDerived = (op: RequestOp): op is MergeOp | IncrementOp => op.op === "merge" || op.op === "increment";

type Violation = { path: string; message: string };
/** Per namespace, the schema version its values were validated against and the results. */
type Validated = Map<string, { version: number; results: Map<unknown, Violation[]> }>;

/**
 * Runs a request's ops in one transaction behind the install's lock (writeInInstall): the
 * state is read, decided (plan.ts) and applied: the results, one per op, or a refusal (a
 * value too large, a schema violation, a failed precondition, a conflict, a missing key, a
 * quota) with nothing written, for the caller to render in its own shapes. Thrown: a 403 for
 * an install of another tenant, a 400 for a stored schema that can no longer be run, an
 * Idempotency-Key's Replay or its 409, and the database's errors. Cleanup counts reach
 * `observe` once the write committed.
 */
export async function runWrite(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  request: WriteRequest,
  observe: CleanupObserver,
  remember?: Remember<WriteResult>,
): Promise<WriteResult> {
  const requested = request.ops;
  const derived = requested.some(isDerived);
  const stateParams = [
    install.installId,
    install.tenantId,
    requested.map((op) => op.namespace),
    requested.map((op) => op.key),
  ];
  // 413 comes before every decision taken under the lock (and before a 403 for an install
  // of another tenant): when a value is over the service's limit, one read of the
  // namespaces' limits names every value over them, without the install's lock
  const given = requested.filter((op): op is Op => !isDerived(op));
  if (given.some((op) => op.op === "put" && op.value.valueBytes > defaults.maxValueBytes)) {
    const rows = await db.run<StateRow>("records.state", stateParams);
    // a merge or increment has no value before the lock: it is sized under it
    const early = requested.map(
      (op): Op => (isDerived(op) ? { op: "check", namespace: op.namespace, key: op.key } : op),
    );
    const refusal = tooLarge(early, namespacesOf(rows), limitsOf(undefined, defaults));
    if (refusal !== undefined) return { ok: false, refusal };
  }

  // a merge or increment has no value before the lock: validated under it
  const early = await validateEarly(db, defaults, install, given);
  let cleaned = { replaced: 0, swept: 0 };
  try {
    const results = await writeInInstall(
      db,
      install,
      async (q, lock, end) => {
        const readState = () =>
          derived
            ? q.run<ValuedStateRow>("records.state_values", stateParams)
            : q.run<ValuedStateRow>("records.state", stateParams);
        const statePending = sentAhead(readState()); // sent together with the lock
        const usage: UsageRow = await lock;
        const rows = await statePending;
        const ops = derived ? resolveOps(requested, rows) : (requested as readonly Op[]);
        const limits = limitsOf(usage, defaults);
        const namespaces = namespacesOf(rows);
        const checks =
          tooLarge(ops, namespaces, limits) === undefined
            ? await checksFor(q, defaults, install, ops, namespaces, early)
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
        let decision = decide(ops, stateOf(rows, undefined), checks, request.revisions);
        if (decision.kind === "sweep") {
          [swept] = await q.run<SweepRow>("installs.sweep_expired", [install.installId, install.tenantId]);
          swept ??= { cleaned: 0, bytes: 0, last_revision: usage.last_revision };
          // the values cannot have changed (the lock is held); only expired rows are gone
          decision = decide(ops, stateOf(await readState(), swept), checks, request.revisions);
        }
        if (decision.kind === "refuse") throw new Refused(decision.refusal);
        if (decision.kind === "sweep") throw new Error("the write pipeline asked to sweep twice");
        const applied = await apply(q, install, decision.plan, swept, end);
        cleaned = { replaced: decision.plan.replacedExpired, swept: swept?.cleaned ?? 0 };
        return applied;
      },
      rememberVia(remember, (results: OpResult[]): WriteResult => ({ ok: true, results })),
    );
    if (request.trigger !== undefined) observe(request.trigger, install, cleaned.replaced);
    observe("quota", install, cleaned.swept);
    return { ok: true, results };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, refusal: error.refusal };
    throw error;
  }
}

/** Ends a write's transaction right behind the statements it has sent (COMMIT pipelined
 * with them); the work then awaits their answers and returns. See writeInInstall. */
export type End = () => void;

/**
 * Runs a write in one transaction behind the install's lock (installs.lock). The work gets
 * the lock's pending result: it may send its first statement before awaiting it, and the
 * two go out together (pipelined, and with BEGIN); the server runs them in order, so the
 * work's snapshot is taken with the lock held. A write to an install_id another tenant owns
 * is refused; the work's statements also filter on the tenant, so whatever they ran did
 * nothing. The work calls `end` once its last statement is sent, so that COMMIT goes out
 * with it: two round trips for the whole write. With an Idempotency-Key, `end` sends
 * nothing: the answer is kept first (its statement needs the work's result), and COMMIT goes
 * out with that statement: one round trip more.
 */
export async function writeInInstall<T>(
  db: Database,
  install: Install,
  work: (q: Queryable, lock: Promise<UsageRow>, end: End) => Promise<T>,
  remember?: Remember<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    const locking = tx.run<UsageRow>("installs.lock", [install.installId, install.tenantId, install.extensionId]);
    // with an Idempotency-Key, its kept answer is read right behind the lock (pipelined): the
    // work sees the lock only once the key is known to be new, so a repeat never writes
    const kept = remember === undefined ? undefined : lookUp(tx, install, remember.key);
    kept?.catch(() => {});
    const lock = locking.then(async (rows) => {
      if (rows[0] === undefined) throw fail("FORBIDDEN", "this install belongs to another tenant");
      const [entry] = (await kept) ?? [];
      if (entry !== undefined && remember !== undefined) throw replayOf(entry, remember.hash);
      return rows[0];
    });
    const end: End = remember === undefined ? () => tx.commit() : () => {};
    const [locked, done] = await Promise.allSettled([lock, work(tx, lock, end)]);
    if (locked.status === "rejected") throw locked.reason;
    if (done.status === "rejected") throw done.reason;
    if (remember !== undefined) {
      const keeping = sentAhead(keep(tx, install, remember, done.value));
      tx.commit();
      await keeping;
    }
    return done.value;
  });
}

/** The put ops' values validated against their namespaces' last known schema versions. */
async function validateEarly(
  db: Database,
  limits: SchemaLimits,
  install: Install,
  ops: readonly Op[],
): Promise<Validated> {
  const validated: Validated = new Map();
  const namespaces = [...new Set(ops.filter((op) => op.op === "put").map((op) => op.namespace))];
  const versions = await Promise.all(namespaces.map((namespace) => lastVersion(db, install, namespace)));
  for (const [i, namespace] of namespaces.entries()) {
    const version = versions[i];
    if (version === null || version === undefined) continue;
    let validate: ValidateFunction;
    try {
      validate = await validatorFor(db, limits, install, namespace, version);
    } catch {
      continue; // changed or refused since: decided under the lock, as it would be without this
    }
    validated.set(namespace, { version, results: await validateInTurns(ops, namespace, checkOf(install, validate)) });
  }
  return validated;
}

// The schema version each namespace had at its install's last write in this process. A
// write's values are validated against it before its transaction (outside the install's lock
// and the transaction's time bound), and the results stand when the version read under the
// lock is the same; else they are validated under the lock. A namespace not seen yet has its
// version read first (schemas.get: one more round trip, once per namespace and process).
const lastVersions = new BoundedMap<string, number | null>(50_000);
const versionKey = (install: Install, namespace: string) =>
  `${install.tenantId}\u0000${install.installId}\u0000${namespace}`;

async function lastVersion(db: Database, install: Install, namespace: string): Promise<number | null> {
  const key = versionKey(install, namespace);
  const known = lastVersions.get(key);
  if (known !== undefined) return known;
  const [row] = await db.run<{ version: number }>("schemas.get", [install.installId, install.tenantId, namespace]);
  const version = row?.version ?? null;
  lastVersions.set(key, version);
  return version;
}

/** A namespace's schema check, its time charged to the install's work. */
function checkOf(install: Install, validate: ValidateFunction) {
  return (value: unknown): Violation[] => {
    const started = performance.now();
    const valid = validate(value);
    chargeValidation(install, performance.now() - started);
    return valid ? [] : violations(validate.errors);
  };
}

/** Validates the values the put ops write to `namespace`, in turns of the event loop of at
 * most MS_PER_TURN: a bulk of 500 values at the 50 ms bound is 25 s of CPU, and the other
 * installs' requests are served between values. */
async function validateInTurns(
  ops: readonly Op[],
  namespace: string,
  check: (value: unknown) => Violation[],
  results = new Map<unknown, Violation[]>(),
) {
  let turn = performance.now();
  for (const op of ops) {
    if (op.op !== "put" || op.namespace !== namespace || results.has(op.parsed)) continue;
    if (performance.now() - turn > MS_PER_TURN) {
      await nextTurn();
      turn = performance.now();
    }
    results.set(op.parsed, check(op.parsed));
  }
  return results;
}

/**
 * The ops of the plan for a request, its merges and increments computed from the values
 * stored now (read under the install's lock, so nothing changes them before commit). A
 * merge or increment of a live record keeps its expiry; one that creates the record takes
 * the namespace's default TTL, as a write without one does.
 */
export function resolveOps(ops: readonly RequestOp[], rows: readonly ValuedStateRow[] | undefined): Op[] {
  return ops.map((op, index): Op => {
    if (!isDerived(op)) return op;
    const row = rows?.[index];
    const live = row?.live === true && row.value !== null;
    const stored: unknown = live ? JSON.parse(row.value as string) : undefined;
    const ifRevision = op.op === "merge" ? op.ifRevision : undefined;
    if (op.op === "merge" && op.mustExist === true && !live) {
      return { op: "check", namespace: op.namespace, key: op.key, ifRevision, mustExist: true } satisfies CheckOp;
    }
    let value: unknown;
    if (op.op === "merge") value = mergePatch(live ? stored : null, op.patch);
    else {
      const result = increment(stored, op.path, op.by);
      if (!result.ok) {
        return { op: "conflict", namespace: op.namespace, key: op.key, ...result.conflict } satisfies ConflictOp;
      }
      value = result.value;
    }
    const put: PutOp = {
      op: "put",
      namespace: op.namespace,
      key: op.key,
      parsed: value,
      value: prepareValue(op.key, value, Number.POSITIVE_INFINITY, "value"),
      ttl: null,
      expiresAt: live ? (row.expires_at?.toISOString() ?? null) : null,
      ...(live ? { keepExpiry: true } : {}),
      ...(ifRevision === undefined ? {} : { ifRevision }),
    };
    return put;
  });
}

/** The schema checks of the namespaces the put ops write, at the versions in force now (the
 * install's lock keeps them in force until commit): the early results where they were
 * validated against those versions, else validated here; decide() reads the results. */
async function checksFor(
  q: Queryable,
  limits: SchemaLimits,
  install: Install,
  ops: readonly Op[],
  namespaces: ReadonlyMap<string, NamespaceSettings>,
  early: Validated,
): Promise<Checks> {
  const checks = new Map<string, (value: unknown) => Violation[]>();
  for (const namespace of new Set(ops.filter((op) => op.op === "put").map((op) => op.namespace))) {
    const version = namespaces.get(namespace)?.schemaVersion ?? null;
    lastVersions.set(versionKey(install, namespace), version);
    if (version === null) continue;
    const known = early.get(namespace);
    const results = new Map(known?.version === version ? known.results : []);
    // values validated here: all of them when the schema changed since, else only those
    // derived under the lock (a merge, an increment)
    if (ops.some((op) => op.op === "put" && op.namespace === namespace && !results.has(op.parsed))) {
      const check = checkOf(install, await validatorFor(q, limits, install, namespace, version));
      await validateInTurns(ops, namespace, check, results);
    }
    checks.set(namespace, (value) => {
      const found = results.get(value);
      if (found === undefined) throw new Error("a value reached decide() without being validated");
      return found;
    });
  }
  return checks;
}

/** The plan's statements, its accounting and the transaction's end, pipelined: one round
 * trip. The usage change is the plan's (sizes read under the lock) plus the rows swept on
 * the way; records.delete fails, and so rolls the write back, unless it deleted exactly the
 * rows the plan read. */
async function apply(
  q: Queryable,
  install: Install,
  plan: Plan,
  swept: SweepRow | undefined,
  end: End,
): Promise<OpResult[]> {
  const scope = [install.installId, install.tenantId];
  const { puts, deletes } = plan;
  const change = {
    bytes: plan.delta.bytes - (swept?.bytes ?? 0),
    records: plan.delta.records - (swept?.cleaned ?? 0),
    lastRevision: plan.lastRevision,
  };
  const changed = puts.length > 0 || deletes.length > 0 || (swept?.cleaned ?? 0) > 0;
  const upserts = await sendUpserts(q, install, puts);
  const deleting =
    deletes.length === 0
      ? undefined
      : q.run("records.delete", [
          ...scope,
          deletes.map((d) => d.namespace),
          deletes.map((d) => d.key),
          deletes.map((d) => d.revision),
          deletes.map((d) => d.expired),
          deletes.reduce((sum, d) => sum + d.sizeBytes, 0),
        ]);
  const answers = sentAhead(
    Promise.all([upserts.answers, deleting, changed ? account(q, install, change) : undefined]),
  );
  end();
  const [written] = await answers;
  const bySlot = new Map(written.map((r) => [slot(r.namespace, r.key), r]));
  const texts = new Map(puts.map((p) => [slot(p.namespace, p.key), p.json]));
  return plan.outcomes.map((outcome) => {
    if (outcome.op !== "put") return outcome;
    const row = bySlot.get(slot(outcome.namespace, outcome.key));
    if (row === undefined) throw new Error("records.upsert did not write every item");
    const json = texts.get(slot(outcome.namespace, outcome.key)) ?? "null";
    return {
      ...outcome,
      written: { expiresAt: row.expires_at, createdAt: row.created_at, updatedAt: row.updated_at, valueJson: json },
    };
  });
}

/** records.upsert of the plan's puts, sent: resolves once every statement is sent, to their
 * pending answers. Values of more than BYTES_PER_TURN go in several statements, each sent in
 * a turn of the event loop of its own (encoding 8 MiB of values for the wire takes 100 ms
 * and more); all are sent before any answer is awaited, so they are still one round trip. */
async function sendUpserts(
  q: Queryable,
  install: Install,
  puts: Plan["puts"],
): Promise<{ answers: Promise<UpsertRow[]> }> {
  const batches: Array<Plan["puts"]> = [];
  let bytes = Number.POSITIVE_INFINITY;
  for (const put of puts) {
    if (bytes + put.json.length > BYTES_PER_TURN && (batches.at(-1)?.length ?? 1) > 0) {
      batches.push([]);
      bytes = 0;
    }
    batches.at(-1)?.push(put);
    bytes += put.json.length;
  }
  const sent: Array<Promise<UpsertRow[]>> = [];
  for (const [i, batch] of batches.entries()) {
    if (i > 0) await nextTurn();
    sent.push(
      sentAhead(
        q.run<UpsertRow>("records.upsert", [
          install.installId,
          install.tenantId,
          install.extensionId,
          batch.map((p) => p.namespace),
          batch.map((p) => p.key),
          batch.map((p) => p.json),
          batch.map((p) => p.revision),
          batch.map((p) => p.sizeBytes),
          batch.map((p) => p.ttl),
          batch.map((p) => p.expiresAt),
        ]),
      ),
    );
  }
  return { answers: Promise.all(sent).then((rows) => rows.flat()) };
}

/** A change to an install's usage row: what it adds to its figures (either may be
 * negative) and its revision counter after the change. */
export type UsageChange = { bytes: number; records: number; lastRevision: number };

/**
 * Accounts a change on the install's usage row, held since installs.lock: the one place a
 * request's usage and revisions are changed (the read cleanup and the scheduled sweeper,
 * single SQL statements of their own, are the exceptions; see docs/decisions.md). Every
 * delete statement returns what it deleted, so its caller can say what to account.
 */
export const account = async (
  q: Queryable,
  install: Pick<Install, "installId" | "tenantId">,
  change: UsageChange,
): Promise<void> => {
  // every accounted change also wakes the install's watchers: a notification sent inside the
  // transaction is delivered at its commit, never on rollback; pipelined, it costs no round trip
  await Promise.all([
    q.run("installs.account", [install.installId, install.tenantId, change.bytes, change.records, change.lastRevision]),
    q.run("changes.notify", [install.installId]),
  ]);
};

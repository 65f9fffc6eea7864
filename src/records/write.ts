// Writing records: PUT of one, bulk-put of many, through one pipeline.
//
// Round trips: BEGIN; installs.lock + records.state pipelined; records.upsert +
// installs.account pipelined; COMMIT = 4, whatever the item count. Only a write that would
// cross a quota pays more: one to sweep the install's expired rows and one to read the
// state again, before it is decided for good.
//
// Every decision is taken between the two pipelined pairs, on a snapshot taken with the
// install's lock held, in the contract's order: 413 value too large for the namespace,
// 422 schema violation, 412 precondition, 403 quota. Nothing is written unless all pass.
import type { Database } from "../db/client.ts";
import { fail } from "../errors.ts";
import { type Install, type UsageRow, writeInInstall } from "./install.ts";
import { type Prepared, prepareWriteItems, valuesTooLarge, type WriteItem } from "./items.ts";
import { validatorFor, violations } from "./schemas.ts";
import { type LimitDefaults, limitsOf, quotaBreach, quotaExceeded } from "./usage.ts";

export type Written = {
  key: string;
  revision: number;
  created: boolean;
  previousRevision: number | null;
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

type StateRow = {
  key: string;
  revision: number | null;
  size_bytes: number | null;
  live: boolean | null;
  schema_version: number | null;
  default_ttl_seconds: number | null;
  max_value_bytes: number | null;
};

/** The value size limit in force in a namespace: a schema may lower the service's. */
const valueLimit = (defaults: LimitDefaults, schema: StateRow | undefined) =>
  Math.min(defaults.maxValueBytes, schema?.max_value_bytes ?? Number.POSITIVE_INFINITY);

/** What a write did: the records, and the expired rows it deleted on the way (replaced by
 * the write, and swept from the whole install to make room under a quota). */
export type WriteResult = { written: Written[]; replacedExpired: number; swept: number };

export async function writeRecords(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  namespace: string,
  items: readonly WriteItem[],
  bulk: boolean,
): Promise<WriteResult> {
  const prepared = prepareWriteItems(items, bulk);
  const keys = prepared.map((p) => p.item.key);
  const at = (index: number) => (bulk ? { index } : {});
  // 413 comes before every decision taken under the lock (and before a 403 for an install
  // of another tenant): when a value is over the service's limit, one read of the
  // namespace's limit names every value over it, without the install's lock
  if (prepared.some((p) => p.value.valueBytes > defaults.maxValueBytes)) {
    const [schema] = await db.run<StateRow>("records.state", [
      install.installId,
      install.tenantId,
      namespace,
      [keys[0]],
    ]);
    throw valuesTooLarge(prepared, valueLimit(defaults, schema), bulk);
  }

  return writeInInstall(db, install, async (q, lock) => {
    const readState = () => q.run<StateRow>("records.state", [install.installId, install.tenantId, namespace, keys]);
    const statePending = readState(); // sent together with the lock
    const usage: UsageRow = await lock;
    let state = await statePending;
    const schema = state[0] as StateRow;

    // 413: the namespace may lower the value size limit
    const tooLarge = valuesTooLarge(prepared, valueLimit(defaults, schema), bulk);
    if (tooLarge !== undefined) throw tooLarge;

    // 422: the schema version in force now, which the install lock keeps in force until commit
    if (schema.schema_version !== null) {
      const validate = await validatorFor(q, defaults, install, namespace, schema.schema_version);
      const errors = prepared.flatMap((p, index) =>
        validate(p.item.value) ? [] : violations(validate.errors).map((v) => ({ ...at(index), ...v })),
      );
      if (errors.length > 0) {
        throw fail("SCHEMA_VIOLATION", "the value does not satisfy the namespace's schema; nothing was written", {
          errors,
        });
      }
    }

    // 412: expired rows are absent to every precondition
    const failed = prepared.flatMap((p, index) => {
      const s = state[index] as StateRow;
      const current = s.live ? s.revision : null;
      const ok =
        p.item.ifRevision !== undefined
          ? current === p.item.ifRevision
          : p.item.ifAbsent === true
            ? current === null
            : true;
      return ok ? [] : [{ index, key: p.item.key, currentRevision: current }];
    });
    if (failed.length > 0) {
      throw bulk
        ? fail("REVISION_MISMATCH", "a precondition failed; nothing was written", { failed })
        : fail("REVISION_MISMATCH", "the record's revision does not match the precondition", {
            currentRevision: failed[0]?.currentRevision ?? null,
          });
    }

    // 403: decide on live usage; stored expired rows are swept first when they would tip it.
    // The first look counts a key's expired row as absent (it is, to the quota), so a write
    // that replaces one cannot slip past a lowered limit because its stored figures do not
    // rise; stored usage still holds the expired rows, so this look can only err towards a
    // sweep, after which the decision is exact.
    const limits = limitsOf(usage, defaults);
    let used = { bytes: usage.bytes_used, records: usage.record_count };
    let delta = deltaOf(prepared, state);
    let swept = 0;
    if (quotaBreach(used, deltaOf(prepared, state, true), limits) !== undefined) {
      const [sweep] = await q.run<{ cleaned: number; bytes_used: number; record_count: number }>(
        "installs.sweep_expired",
        [install.installId, install.tenantId],
      );
      swept = sweep?.cleaned ?? 0;
      used = { bytes: sweep?.bytes_used ?? 0, records: sweep?.record_count ?? 0 };
      state = await readState();
      delta = deltaOf(prepared, state);
      const breach = quotaBreach(used, delta, limits);
      if (breach !== undefined) throw quotaExceeded(breach);
    }

    const revisions = prepared.map((_, index) => usage.last_revision + index + 1);
    const [rows] = await Promise.all([
      q.run<{ key: string; revision: number; expires_at: Date | null; created_at: Date; updated_at: Date }>(
        "records.upsert",
        [
          install.installId,
          install.tenantId,
          install.extensionId,
          namespace,
          keys,
          prepared.map((p) => p.value.json),
          revisions,
          prepared.map((p) => p.value.sizeBytes),
          prepared.map((p) => p.ttl ?? (p.expiresAt === null ? schema.default_ttl_seconds : null)),
          prepared.map((p) => p.expiresAt),
        ],
      ),
      q.run("installs.account", [install.installId, install.tenantId, delta.bytes, delta.records, revisions.at(-1)]),
    ]);
    const byKey = new Map(rows.map((r) => [r.key, r]));
    const replacedExpired = state.filter((s) => s.live === false).length;
    const written = prepared.map((p, index) => {
      const row = byKey.get(p.item.key);
      if (row === undefined) throw new Error("records.upsert did not write every item");
      const s = state[index] as StateRow;
      const previousRevision = s.live ? s.revision : null;
      return {
        key: row.key,
        revision: row.revision,
        created: previousRevision === null,
        previousRevision,
        expiresAt: row.expires_at,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      };
    });
    return { written, replacedExpired, swept };
  });
}

/** What the write adds to usage: new sizes less the rows they replace (live or expired;
 * with liveOnly, expired rows count as absent, as they do for the quota). */
function deltaOf(prepared: readonly Prepared[], state: readonly StateRow[], liveOnly = false) {
  let bytes = 0;
  let records = 0;
  prepared.forEach((p, index) => {
    const s = state[index];
    const stored = liveOnly && s?.live !== true ? null : (s?.size_bytes ?? null);
    bytes += p.value.sizeBytes - (stored ?? 0);
    if (stored === null) records += 1;
  });
  return { bytes, records };
}

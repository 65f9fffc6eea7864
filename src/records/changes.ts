// The change feed (spec section 16): pages of an install's changes after a cursor. Every
// change is written by the statement that makes it, in its transaction (records.upsert,
// records.delete, namespaces.delete, the cleanups; see docs/decisions.md, "Change feed");
// this module only reads them back.
//
// A cursor is a position in the install's feed, (revision, namespace, key) in the order of
// ext_storage_changes' primary key: "after every change up to revision r" is (r + 1, "", ""),
// which sorts below any change of r + 1 (no change has an empty namespace). It is opaque to
// clients and bound to its install by a tag: a cursor of install A sent by B is a 400.
import { createHash } from "node:crypto";
import type { Database, Queryable } from "../db/client.ts";
import { fail } from "../errors.ts";
import type { Install } from "./install.ts";
import { decodeOpaque, encodeOpaque } from "./keys.ts";
import { canonicalFromJsonb } from "./values.ts";

export type Position = { revision: number; namespace: string; key: string };
type Scope = Pick<Install, "tenantId" | "installId">;

const START: Position = { revision: 0, namespace: "", key: "" };
export const MAX_CHANGES_LIMIT = 1000;

const installTag = (s: Scope) =>
  createHash("sha256")
    .update(JSON.stringify(["changes", s.tenantId, s.installId]))
    .digest("base64url")
    .slice(0, 16);

export function encodePosition(scope: Scope, p: Position): string {
  const body =
    p.namespace === "" ? [1, installTag(scope), p.revision] : [1, installTag(scope), p.revision, p.namespace, p.key];
  return encodeOpaque(body);
}

export function decodePosition(scope: Scope, cursor: string): Position {
  const bad = () => fail("INVALID_REQUEST", "since is not a cursor of this install's change feed");
  const parsed = decodeOpaque(cursor);
  if (!Array.isArray(parsed) || parsed[0] !== 1 || parsed[1] !== installTag(scope)) throw bad();
  const [, , revision, namespace = "", key = ""] = parsed as [number, string, unknown, unknown?, unknown?];
  if (!Number.isSafeInteger(revision) || (revision as number) < 0) throw bad();
  if (typeof namespace !== "string" || typeof key !== "string" || (parsed.length !== 3 && parsed.length !== 5)) {
    throw bad();
  }
  return { revision: revision as number, namespace, key };
}

export type ChangeFilter = { namespace: string | null; prefix: string };
/** since: a position, "now" (the install's head), or undefined (the oldest change kept). */
export type ChangesRequest = ChangeFilter & { since: Position | "now" | undefined; limit: number; values: boolean };

export type Change = {
  type: "put" | "delete" | "namespace_deleted";
  namespace: string;
  key?: string;
  revision: number;
  expiresAt?: string;
  /** the value's JSON text, passed on unparsed */
  valueJson?: string;
  reason?: "expired";
};
/** One change with the cursor that resumes right after it. */
export type FeedItem = { change: Change; cursor: string };
export type ChangesPage = { items: FeedItem[]; cursor: string };
/** A page, or the cursor was older than what is kept. */
export type ChangesResult = { ok: true; page: ChangesPage } | { ok: false; expired: true };

type ChangeRow = {
  last_revision: number;
  changes_floor: number;
  revision: number | null;
  namespace: string | null;
  key: string | null;
  kind: Change["type"] | null;
  expired: boolean | null;
  expires_at: Date | null;
  value: string | null;
  value_from_jsonb: boolean | null;
};

function changeOf(row: ChangeRow): Change {
  const change: Change = {
    type: row.kind as Change["type"],
    namespace: row.namespace as string,
    revision: row.revision as number,
  };
  if (row.kind !== "namespace_deleted") change.key = row.key as string;
  if (row.expires_at !== null) change.expiresAt = row.expires_at.toISOString();
  if (row.value !== null) change.valueJson = row.value_from_jsonb ? canonicalFromJsonb(row.value) : row.value;
  if (row.expired) change.reason = "expired";
  return change;
}

/** One page of changes: 1 round trip (changes.list). */
export async function readChanges(q: Queryable, install: Scope, request: ChangesRequest): Promise<ChangesResult> {
  const since = request.since;
  const from = since === undefined || since === "now" ? START : since;
  const rows = await q.run<ChangeRow>("changes.list", [
    install.installId,
    install.tenantId,
    from.revision,
    from.namespace,
    from.key,
    request.namespace,
    request.prefix,
    since === "now" ? 0 : request.limit,
    request.values,
  ]);
  const head = rows[0] ?? { last_revision: 0, changes_floor: 0 };
  // a cursor at or below the floor may have lost the changes after it (retention, purge)
  if (since !== undefined && since !== "now" && head.changes_floor > 0 && since.revision <= head.changes_floor) {
    return { ok: false, expired: true };
  }
  const found = rows.filter((r) => r.revision !== null);
  const items = found.map((row) => ({
    change: changeOf(row),
    cursor: encodePosition(install, {
      revision: row.revision as number,
      namespace: row.namespace as string,
      key: row.kind === "namespace_deleted" ? "" : (row.key as string),
    }),
  }));
  // namespace_deleted has key '': its position keeps its namespace, so it cannot be read as
  // "after all of revision r" (namespace '') by encodePosition
  const last = found.at(-1);
  let cursor: Position;
  if (last !== undefined && found.length >= request.limit) {
    cursor = { revision: last.revision as number, namespace: last.namespace as string, key: last.key as string };
  } else {
    // not full: every change up to the install's counter in this snapshot has been seen
    const upTo = Math.max(head.last_revision, last?.revision ?? 0, from.revision - 1);
    cursor = { revision: upTo + 1, namespace: "", key: "" };
  }
  return { ok: true, page: { items, cursor: encodePosition(install, cursor) } };
}

/** Wakes the install's watchers in every process after a change that committed on its own
 * (a read's cleanup, a sweeper batch): a notification of its own, not awaited. */
export function announceChange(db: Database, installId: string): void {
  db.run("changes.notify", [installId]).catch(() => {});
}

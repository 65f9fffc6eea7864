// The install a request acts for, and the transaction every write of it runs in.
import { type Database, type Queryable, sentAhead } from "../db/client.ts";
import { fail } from "../errors.ts";
import { keep, lookUp, type Remember, replayOf } from "./idempotency.ts";

export type { Remember } from "./idempotency.ts";

export type Install = Readonly<{ tenantId: string; extensionId: string; installId: string }>;

/** The install's usage row as installs.lock returns it. */
export type UsageRow = {
  bytes_used: number;
  record_count: number;
  max_bytes: number | null;
  max_records: number | null;
  last_revision: number;
  last_schema_version: number;
};

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

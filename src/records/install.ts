// The install a request acts for, and the transaction every write of it runs in.
import type { Database, Queryable } from "../db/client.ts";
import { fail } from "../errors.ts";

export type Install = Readonly<{ tenantId: string; extensionId: string; installId: string }>;

/**
 * Runs a write in one transaction behind the install's lock (installs.lock). The lock and
 * the first statement of `work` are sent together (pipelined): the server runs them in
 * order, so the write's snapshot is taken after the lock is held. Round trips: BEGIN, the
 * pipelined pair, COMMIT = 3. A write to an install_id another tenant owns is refused, and
 * since the work's statements also filter on the tenant, they did nothing.
 */
export async function writeInInstall<T>(
  db: Database,
  install: Install,
  work: (q: Queryable) => Promise<T>,
): Promise<T> {
  return db.transaction(async (q) => {
    const [locked, done] = await Promise.allSettled([
      q.run("installs.lock", [install.installId, install.tenantId, install.extensionId]),
      work(q),
    ]);
    if (locked.status === "rejected") throw locked.reason;
    if (locked.value.length === 0) throw fail("FORBIDDEN", "this install belongs to another tenant");
    if (done.status === "rejected") throw done.reason;
    return done.value;
  });
}

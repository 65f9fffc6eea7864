// The install's namespaces: what they hold, and deleting one whole.
import { type Database, sentAhead } from "../db/client.ts";
import type { Remember } from "./idempotency.ts";
import type { Install } from "./install.ts";
import { account, writeInInstall } from "./pipeline.ts";

type NamespaceRow = { namespace: string; record_count: number; bytes_used: number };

/** GET /v1/namespaces: 1 round trip. */
export async function listNamespaces(db: Database, install: Install) {
  const rows = await db.run<NamespaceRow>("namespaces.list", [install.installId, install.tenantId]);
  return {
    namespaces: rows.map((r) => ({ namespace: r.namespace, recordCount: r.record_count, bytesUsed: r.bytes_used })),
  };
}

type DeletedRow = { deleted: number; rows: number; bytes: number };

/**
 * DELETE /v1/namespaces/{ns}, atomic: 2 round trips (BEGIN, installs.lock and
 * namespaces.delete pipelined; installs.account, when it deleted rows, and COMMIT).
 * The delete is one change and takes one revision, whatever it deleted (a change feed shows
 * it as one namespace_deleted); deleting nothing changes nothing and takes none.
 */
export async function deleteNamespace(
  db: Database,
  install: Install,
  namespace: string,
  remember?: Remember<{ deleted: number }>,
): Promise<{ deleted: number }> {
  return writeInInstall(
    db,
    install,
    async (q, lock, end) => {
      const pending = sentAhead(
        q.run<DeletedRow>("namespaces.delete", [install.installId, install.tenantId, namespace]),
      );
      const usage = await lock;
      const [row] = await pending;
      if (row === undefined) throw new Error("namespaces.delete returned no row");
      const accounting = sentAhead(
        row.rows > 0
          ? account(q, install, { bytes: -row.bytes, records: -row.rows, lastRevision: usage.last_revision + 1 })
          : Promise.resolve(),
      );
      end();
      await accounting;
      return { deleted: row.deleted };
    },
    remember,
  );
}

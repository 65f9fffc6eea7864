// The install's namespaces: what they hold, and deleting one whole.
import type { Database } from "../db/client.ts";
import { type Install, writeInInstall } from "./install.ts";

type NamespaceRow = { namespace: string; record_count: number; bytes_used: number };

/** GET /v1/namespaces: 1 round trip. */
export async function listNamespaces(db: Database, install: Install) {
  const rows = await db.run<NamespaceRow>("namespaces.list", [install.installId, install.tenantId]);
  return {
    namespaces: rows.map((r) => ({ namespace: r.namespace, recordCount: r.record_count, bytesUsed: r.bytes_used })),
  };
}

/** DELETE /v1/namespaces/{ns}: 3 round trips, atomic. */
export async function deleteNamespace(db: Database, install: Install, namespace: string) {
  const [row] = await writeInInstall(db, install, (q) =>
    q.run<{ deleted: number }>("namespaces.delete", [install.installId, install.tenantId, namespace]),
  );
  return { deleted: row?.deleted ?? 0 };
}

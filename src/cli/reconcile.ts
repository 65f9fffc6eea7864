// bun run db:reconcile [--json] [--url …] — compares every install's ext_storage_usage row
// with the truth summed over its rows and prints the drift. Exits 1 when any install drifts.
import { connect } from "../db/client.ts";
import { parseCommandLine } from "./args.ts";
import { databaseUrl } from "./db/common.ts";

const USAGE = `bun run db:reconcile [--json] [--url URL]

Compares every install's recorded usage (ext_storage_usage) with the sum over its rows and
prints each drift; exits 1 when any install drifts, 0 when none does.

  --json      machine-readable output
  --url URL   the database (default: DATABASE_URL)
`;

const { values } = parseCommandLine(USAGE, { url: { type: "string" }, json: { type: "boolean", default: false } });
const url = databaseUrl(values.url);
const json = values.json;
const db = connect(url, { poolMax: 1, prepare: false });
type Drift = {
  install_id: string;
  tenant_id: string | null;
  bytes_used: number;
  record_count: number;
  true_bytes: number;
  true_count: number;
};
try {
  const rows = await db.run<Drift>("installs.reconcile", []);
  const drift = rows.map((r) => ({
    installId: r.install_id,
    tenantId: r.tenant_id,
    bytes: { recorded: r.bytes_used, actual: r.true_bytes, drift: r.bytes_used - r.true_bytes },
    records: { recorded: r.record_count, actual: r.true_count, drift: r.record_count - r.true_count },
  }));
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: drift.length === 0, drift }, null, 2)}\n`);
  } else if (drift.length === 0) {
    process.stdout.write("usage reconciled: no drift\n");
  } else {
    for (const d of drift) {
      process.stdout.write(
        `${d.installId} (tenant ${d.tenantId ?? "none: rows without a usage row"}): bytes ${d.bytes.recorded} recorded, ${d.bytes.actual} actual (${d.bytes.drift > 0 ? "+" : ""}${d.bytes.drift}); records ${d.records.recorded} recorded, ${d.records.actual} actual (${d.records.drift > 0 ? "+" : ""}${d.records.drift})\n`,
      );
    }
    process.stdout.write(`${drift.length} install(s) drift\n`);
  }
  process.exitCode = drift.length === 0 ? 0 : 1;
} catch (error) {
  process.stderr.write(`db:reconcile failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await db.close();
}

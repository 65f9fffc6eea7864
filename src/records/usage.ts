// Quotas: the limits in force for an install and the decision whether a write fits.
import type { Database } from "../db/client.ts";
import { fail } from "../errors.ts";
import type { Install } from "./install.ts";

export type Limits = { maxBytes: number; maxRecords: number; maxValueBytes: number };
export type LimitDefaults = { quotaBytes: number; quotaRecords: number; maxValueBytes: number; maxSchemaBytes: number };

export const limitsOf = (
  row: { max_bytes: number | null; max_records: number | null } | undefined,
  d: LimitDefaults,
): Limits => ({
  maxBytes: row?.max_bytes ?? d.quotaBytes,
  maxRecords: row?.max_records ?? d.quotaRecords,
  maxValueBytes: d.maxValueBytes,
});

export type QuotaBreach = { kind: "bytes" | "records"; limit: number; used: number; requested: number };

/**
 * Whether a write that adds `bytes` and `records` (either may be negative) crosses a limit.
 * A write that does not raise a figure is allowed even when the install is already over a
 * lowered limit. Bytes are checked first.
 */
export function quotaBreach(
  used: { bytes: number; records: number },
  delta: { bytes: number; records: number },
  limits: Limits,
): QuotaBreach | undefined {
  if (delta.bytes > 0 && used.bytes + delta.bytes > limits.maxBytes) {
    return { kind: "bytes", limit: limits.maxBytes, used: used.bytes, requested: delta.bytes };
  }
  if (delta.records > 0 && used.records + delta.records > limits.maxRecords) {
    return { kind: "records", limit: limits.maxRecords, used: used.records, requested: delta.records };
  }
  return undefined;
}

export const quotaExceeded = (breach: QuotaBreach) =>
  fail("QUOTA_EXCEEDED", `the install's ${breach.kind} quota would be exceeded; nothing was written`, breach);

type LiveUsageRow = { bytes_used: number; record_count: number; max_bytes: number | null; max_records: number | null };

/** GET /v1/usage and the admin view: live usage (expired rows excluded) and the limits in force. 1 round trip. */
export async function usageOf(db: Database, install: Pick<Install, "installId" | "tenantId">, defaults: LimitDefaults) {
  const [row] = await db.run<LiveUsageRow>("installs.usage", [install.installId, install.tenantId]);
  return { bytesUsed: row?.bytes_used ?? 0, recordCount: row?.record_count ?? 0, limits: limitsOf(row, defaults) };
}

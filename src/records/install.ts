// The install a request acts for, and its usage row as installs.lock returns it.
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

-- name: installs.purge
-- Deletes everything of an install for an uninstall (records, schemas), after
-- installs.lock_existing in the same transaction, and leaves its usage row as a tombstone:
-- usage figures back to zero and limit overrides back to the defaults, while the tenant
-- that owns the install and its revision and schema-version counters stay, so that a later
-- write gets revisions and versions above every earlier one (a stale If-Match still fails)
-- and another tenant still cannot take the install_id. Only rows of that tenant are touched.
-- Its change feed goes too: the install's changes are deleted, its counter moves by one and
-- changes_floor to it, so every cursor handed out before the purge is 410 CURSOR_EXPIRED
-- (a watcher is told to reset) rather than resuming into an install emptied under it.
-- returns: exactly one row: records, schemas (rows deleted), usage_rows (tombstones kept)
-- $1 install_id, $2 tenant_id
with records as (
  delete from ext_storage_records where install_id = $1 and tenant_id = $2 returning 1
),
changes as (
  delete from ext_storage_changes where install_id = $1
    and exists (select 1 from ext_storage_usage where install_id = $1 and tenant_id = $2)
  returning 1
),
schemas as (
  delete from ext_storage_schemas where install_id = $1 and tenant_id = $2 returning 1
),
usage_row as (
  update ext_storage_usage
  set bytes_used = 0, record_count = 0, max_bytes = null, max_records = null,
      last_revision = last_revision + 1, changes_floor = last_revision + 1, updated_at = now()
  where install_id = $1 and tenant_id = $2
  returning 1
)
select (select count(*) from records) as records,
       (select count(*) from schemas) as schemas,
       (select count(*) from usage_row) as usage_rows

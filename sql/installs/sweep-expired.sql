-- name: installs.sweep_expired
-- Deletes every expired row of the install, all namespaces, and takes them off its usage.
-- Run by a write that would cross a quota (after installs.lock: expired rows never cause a
-- rejection), and by every Nth list (TTL_LIST_SWEEP_EVERY) so read-only installs drain.
-- Takes the usage row lock before deleting any record (lock_usage), the order every write
-- uses; already held by a write, it costs nothing more.
-- returns: at most one row (none for an install never written): cleaned (rows deleted),
--   bytes_used, record_count after it
-- $1 install_id, $2 tenant_id
with lock_usage as (
  select 1 from ext_storage_usage where install_id = $1 and tenant_id = $2 for update
),
expired as (
  delete from ext_storage_records
  where install_id = $1 and tenant_id = $2 and expires_at is not null and expires_at <= now()
    and exists (select 1 from lock_usage)
  returning size_bytes
),
cleaned as (
  select count(*) as n, coalesce(sum(size_bytes), 0) as bytes from expired
)
update ext_storage_usage u
set bytes_used = u.bytes_used - cleaned.bytes,
    record_count = u.record_count - cleaned.n,
    updated_at = now()
from cleaned
where u.install_id = $1 and u.tenant_id = $2
returning cleaned.n as cleaned, u.bytes_used, u.record_count

-- name: installs.sweep_expired
-- Deletes every expired row of the install, all namespaces, and takes them off its usage:
-- run after installs.lock when a write would cross a quota, so expired rows never cause a
-- rejection (clean up, then decide).
-- returns: exactly one row: cleaned (rows deleted), bytes_used, record_count after it
-- $1 install_id, $2 tenant_id
with expired as (
  delete from ext_storage_records
  where install_id = $1 and tenant_id = $2 and expires_at is not null and expires_at <= now()
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

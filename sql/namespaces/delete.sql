-- name: namespaces.delete
-- Deletes every row of a namespace after installs.lock in the same transaction, and takes
-- them off the install's usage. (RETURNING holds plain columns only: Citus refuses
-- non-immutable functions such as now() there, so liveness is judged in `total`.)
-- returns: exactly one row: deleted (live rows deleted; expired ones are cleanup)
-- $1 install_id, $2 tenant_id, $3 namespace
with deleted as (
  delete from ext_storage_records
  where install_id = $1 and tenant_id = $2 and namespace = $3
  returning size_bytes, expires_at
),
total as (
  select count(*) as n,
         count(*) filter (where expires_at is null or expires_at > now()) as live_n,
         coalesce(sum(size_bytes), 0) as bytes
  from deleted
),
usage_adjusted as (
  update ext_storage_usage
  set bytes_used = bytes_used - total.bytes,
      record_count = record_count - total.n,
      updated_at = now()
  from total
  where install_id = $1 and tenant_id = $2 and total.n > 0
)
select live_n as deleted from total

-- name: records.delete
-- Deletes keys (DELETE of one key, bulk-delete of many) after installs.lock in the same
-- transaction, all or nothing: when any item's if_revision does not match the live
-- revision, nothing is deleted. Expired rows of the keys are deleted too (cleanup) but are
-- not counted: they were already absent.
-- returns: one row per item in request order: idx, key, ok, current_revision (live
--   revision, null when absent), deleted (a live row was deleted)
-- $1 install_id, $2 tenant_id, $3 namespace, $4 keys (text[]), $5 if_revision (bigint[],
-- null: unconditional)
with item as (
  select * from unnest($4::text[], $5::bigint[]) with ordinality as i(key, if_revision, idx)
),
current_row as (
  select key, revision, (expires_at is null or expires_at > now()) as live
  from ext_storage_records
  where install_id = $1 and tenant_id = $2 and namespace = $3 and key = any($4::text[])
),
checked as (
  select item.*, case when c.live then c.revision end as current_revision,
         c.key is not null as stored,
         item.if_revision is null or coalesce(c.live and c.revision = item.if_revision, false) as ok
  from item left join current_row c on c.key = item.key
),
decision as (
  select bool_and(ok) as ok from checked
),
deleted as (
  delete from ext_storage_records
  where install_id = $1 and tenant_id = $2 and namespace = $3
    and key = any($4::text[]) and (select ok from decision)
  returning size_bytes
),
usage_adjusted as (
  update ext_storage_usage
  set bytes_used = bytes_used - d.bytes,
      record_count = record_count - d.n,
      updated_at = now()
  from (select count(*) as n, coalesce(sum(size_bytes), 0) as bytes from deleted) d
  where install_id = $1 and tenant_id = $2 and d.n > 0
)
select checked.idx, checked.key, checked.ok, checked.current_revision,
       (select ok from decision) and checked.current_revision is not null as deleted
from checked
order by checked.idx

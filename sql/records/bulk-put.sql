-- name: records.bulk_put
-- Writes up to STORAGE_MAX_BULK_ITEMS records (bulk-put) after installs.lock in the same
-- transaction, all or nothing: when any item's precondition fails, nothing is written and
-- every item is returned with ok, so the caller can name each failing one. Keys are
-- distinct (checked before). Revisions are the install's counter plus the item's position.
-- returns: one row per item in request order: idx, key, ok, current_revision (live revision
--   before the write, null when absent), created, and, when written, revision, expires_at
-- $1 install_id, $2 tenant_id, $3 extension_id, $4 namespace, $5 keys (text[]),
-- $6 values (JSON text[]), $7 size_bytes (int[]), $8 ttl_seconds (int[], null: none),
-- $9 expires_at (timestamptz[], null: none), $10 if_revision (bigint[], null: none),
-- $11 if_absent (bool[])
with usage_row as (
  select last_revision from ext_storage_usage where install_id = $1 and tenant_id = $2
),
item as (
  select *
  from unnest($5::text[], $6::text[], $7::integer[], $8::integer[], $9::timestamptz[],
              $10::bigint[], $11::bool[])
    with ordinality as i(key, value, size_bytes, ttl_seconds, expires_at, if_revision,
                         if_absent, idx)
),
current_row as (
  select key, revision, size_bytes, (expires_at is null or expires_at > now()) as live
  from ext_storage_records
  where install_id = $1 and tenant_id = $2 and namespace = $4 and key = any($5::text[])
),
checked as (
  select item.*, c.size_bytes as old_size_bytes,
         case when c.live then c.revision end as current_revision,
         case
           when item.if_revision is not null then coalesce(c.live and c.revision = item.if_revision, false)
           when item.if_absent then not coalesce(c.live, false)
           else true
         end as ok
  from item left join current_row c on c.key = item.key
),
decision as (
  select bool_and(ok) as ok, count(*) as n,
         sum(size_bytes - coalesce(old_size_bytes, 0)) as bytes_delta,
         count(*) filter (where old_size_bytes is null) as records_delta
  from checked
),
namespace_schema as (
  select default_ttl_seconds from ext_storage_schemas
  where install_id = $1 and tenant_id = $2 and namespace = $4
),
written as (
  insert into ext_storage_records as r (tenant_id, extension_id, install_id, namespace, key,
    value, revision, size_bytes, expires_at, created_at, updated_at)
  select $2, $3, $1, $4, checked.key, checked.value::jsonb, usage_row.last_revision + checked.idx,
    checked.size_bytes,
    case
      when checked.ttl_seconds is not null then now() + make_interval(secs => checked.ttl_seconds)
      when checked.expires_at is not null then checked.expires_at
      else now() + make_interval(secs => (select default_ttl_seconds from namespace_schema))
    end,
    now(), now()
  from checked, usage_row, decision
  where decision.ok
  order by checked.idx
  on conflict (install_id, namespace, key) do update set
    value = excluded.value,
    revision = excluded.revision,
    size_bytes = excluded.size_bytes,
    expires_at = excluded.expires_at,
    updated_at = excluded.updated_at,
    created_at = case
      when r.expires_at is not null and r.expires_at <= excluded.updated_at then excluded.created_at
      else r.created_at
    end
  returning r.key, r.revision, r.expires_at
),
usage_adjusted as (
  update ext_storage_usage
  set last_revision = last_revision + decision.n,
      bytes_used = bytes_used + decision.bytes_delta,
      record_count = record_count + decision.records_delta,
      updated_at = now()
  from decision
  where install_id = $1 and tenant_id = $2 and decision.ok
)
select checked.idx, checked.key, checked.ok, checked.current_revision,
       checked.current_revision is null as created, written.revision, written.expires_at
from checked left join written on written.key = checked.key
order by checked.idx

-- name: records.put
-- Writes one record (PUT) after installs.lock in the same transaction. An expired row of
-- the same key is treated as absent and replaced (it counts as a create). The revision is
-- the install's counter plus one, so it grows across delete and re-create.
-- Nothing is written when the precondition fails; the caller reads why from the row.
-- ON CONFLICT ... SET uses only excluded.* and the stored row: Citus refuses volatile
-- functions such as now() there.
-- returns: exactly one row: ok (precondition held), current_revision (the live revision
--   before the write, null when absent), and, when written, revision, expires_at,
--   created_at, updated_at
-- $1 install_id, $2 tenant_id, $3 extension_id, $4 namespace, $5 key, $6 value (JSON text),
-- $7 size_bytes, $8 ttl_seconds (null: none), $9 expires_at (null: none),
-- $10 if-match revision (null: none), $11 if-none-match * (bool)
with usage_row as (
  select last_revision from ext_storage_usage where install_id = $1 and tenant_id = $2
),
current_row as (
  select revision, size_bytes, (expires_at is null or expires_at > now()) as live
  from ext_storage_records
  where install_id = $1 and tenant_id = $2 and namespace = $4 and key = $5
),
live as (
  select revision from current_row where live
),
decision as (
  select case
    when $10::bigint is not null then exists (select 1 from live where revision = $10::bigint)
    when $11::bool then not exists (select 1 from live)
    else true
  end as ok
),
namespace_schema as (
  select default_ttl_seconds from ext_storage_schemas
  where install_id = $1 and tenant_id = $2 and namespace = $4
),
written as (
  insert into ext_storage_records as r (tenant_id, extension_id, install_id, namespace, key,
    value, revision, size_bytes, expires_at, created_at, updated_at)
  select $2, $3, $1, $4, $5, $6::text::jsonb, usage_row.last_revision + 1, $7,
    case
      when $8::integer is not null then now() + make_interval(secs => $8::integer)
      when $9::timestamptz is not null then $9::timestamptz
      else now() + make_interval(secs => (select default_ttl_seconds from namespace_schema))
    end,
    now(), now()
  from usage_row, decision
  where decision.ok
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
  returning r.revision, r.expires_at, r.created_at, r.updated_at
),
usage_adjusted as (
  update ext_storage_usage
  set last_revision = last_revision + 1,
      bytes_used = bytes_used + $7 - coalesce((select size_bytes from current_row), 0),
      record_count = record_count + case when exists (select 1 from current_row) then 0 else 1 end,
      updated_at = now()
  where install_id = $1 and tenant_id = $2 and exists (select 1 from written)
)
select decision.ok, (select revision from live) as current_revision,
       written.revision, written.expires_at, written.created_at, written.updated_at
from decision left join written on true

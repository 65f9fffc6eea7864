-- name: installs.usage
-- The install's live usage (stored rows less those expired and not yet cleaned) and its
-- limit overrides, for GET /v1/usage and the admin API.
-- returns: zero rows for an install never written (or owned by another tenant), else one:
--   bytes_used, record_count, max_bytes, max_records
-- $1 install_id, $2 tenant_id
select u.bytes_used - coalesce(e.bytes, 0) as bytes_used,
       u.record_count - coalesce(e.n, 0) as record_count,
       u.max_bytes, u.max_records
from ext_storage_usage u
left join (
  select count(*) as n, sum(size_bytes) as bytes
  from ext_storage_records
  where install_id = $1 and tenant_id = $2 and expires_at is not null and expires_at <= now()
) e on true
where u.install_id = $1 and u.tenant_id = $2

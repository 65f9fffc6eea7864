-- name: records.state
-- What a write needs to decide, read after installs.lock in the same transaction: the row
-- now stored for each key (live or expired) and the namespace's schema settings.
-- returns: one row per key, in request order: key, revision, size_bytes, live (null when
--   no row is stored), and on every row the namespace's schema_version,
--   default_ttl_seconds, max_value_bytes (null when it has no schema)
-- $1 install_id, $2 tenant_id, $3 namespace, $4 keys (text[])
select k.key, r.revision, r.size_bytes,
       case when r.key is not null then r.expires_at is null or r.expires_at > now() end as live,
       s.version as schema_version, s.default_ttl_seconds, s.max_value_bytes
from unnest($4::text[]) with ordinality as k(key, idx)
left join ext_storage_records r
  on r.install_id = $1 and r.tenant_id = $2 and r.namespace = $3 and r.key = k.key
left join ext_storage_schemas s
  on s.install_id = $1 and s.tenant_id = $2 and s.namespace = $3
order by k.idx

-- name: records.state
-- What a write or delete needs to decide, read after installs.lock in the same transaction
-- (or, for an early 413, without it): the row now stored for each (namespace, key) item,
-- live or expired, and its namespace's schema settings. Items carry their namespace, so one
-- request may touch several namespaces of the install.
-- returns: one row per item, in request order: namespace, key, revision, size_bytes, live
--   (null when no row is stored), schema_version, default_ttl_seconds, max_value_bytes (the
--   item's namespace's schema; null when it has none)
-- $1 install_id, $2 tenant_id, $3 namespaces (text[]), $4 keys (text[])
select k.namespace, k.key, r.revision, r.size_bytes,
       case when r.key is not null then r.expires_at is null or r.expires_at > now() end as live,
       s.version as schema_version, s.default_ttl_seconds, s.max_value_bytes
from unnest($3::text[], $4::text[]) with ordinality as k(namespace, key, idx)
left join ext_storage_records r
  on r.install_id = $1 and r.tenant_id = $2 and r.namespace = k.namespace and r.key = k.key
left join ext_storage_schemas s
  on s.install_id = $1 and s.tenant_id = $2 and s.namespace = k.namespace
order by k.idx

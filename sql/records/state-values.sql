-- name: records.state_values
-- records.state for a request whose new values are computed from the stored ones (PATCH, an
-- atomic merge or increment): the same rows plus each live row's value, as the JSON text it
-- was written as, and its expiry (a merge keeps it). Read after installs.lock in the same
-- transaction, pipelined with it, so the values cannot change before the write commits: the
-- install's lock serialises every read-modify-write (no lost update) at no extra round trip.
-- returns: one row per item, in request order: namespace, key, revision, size_bytes, live
--   (null when no row is stored), schema_version, default_ttl_seconds, max_value_bytes (null
--   when no schema), value (a live row's text: value_json of its revision, else jsonb's
--   text), value_from_jsonb, expires_at
-- $1 install_id, $2 tenant_id, $3 namespaces (text[]), $4 keys (text[])
select k.namespace, k.key, r.revision, r.size_bytes,
       case when r.key is not null then r.expires_at is null or r.expires_at > now() end as live,
       s.version as schema_version, s.default_ttl_seconds, s.max_value_bytes,
       case when r.expires_at is null or r.expires_at > now() then
         case when r.value_json_revision = r.revision then r.value_json::text else r.value::text end
       end as value,
       r.value_json_revision is distinct from r.revision as value_from_jsonb,
       r.expires_at
from unnest($3::text[], $4::text[]) with ordinality as k(namespace, key, idx)
left join ext_storage_records r
  on r.install_id = $1 and r.tenant_id = $2 and r.namespace = k.namespace and r.key = k.key
left join ext_storage_schemas s
  on s.install_id = $1 and s.tenant_id = $2 and s.namespace = k.namespace
order by k.idx

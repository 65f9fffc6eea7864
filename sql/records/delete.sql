-- name: records.delete
-- Deletes the rows a delete plan names (DELETE of one key, bulk-delete, and later the
-- delete ops of an atomic request), after installs.lock and records.state in the same
-- transaction: the service has already decided (preconditions, 404) on that state, so this
-- statement decides nothing. Items carry their namespace. It returns what it deleted, so
-- the service accounts usage and revisions in one place (installs.account).
-- Each item is recorded as a delete change (ext_storage_changes) by the logged CTE, in this
-- statement and so in the write's transaction, at the revision the plan gave it. Its rows
-- select from the usage row (on Citus, one shard, as records.upsert), so they are the items
-- named, not the rows found: the write pipeline checks the two are the same and otherwise
-- rolls the whole write back.
-- The items are unnested in select lists, not in FROM, as in records.upsert (which says why).
-- returns: one row per row deleted (live or expired): namespace, key, size_bytes
-- $1 install_id, $2 tenant_id, $3 namespaces (text[]), $4 keys (text[]), $5 revisions
-- (bigint[], one per item), $6 expired (bool[]: the row had expired, a change with reason
-- expired)
with logged as (
  insert into ext_storage_changes (install_id, revision, namespace, key, kind, expired)
  select u.install_id, d.revision, d.namespace, d.key, 'delete', d.expired
  from ext_storage_usage u
  cross join (
    select unnest($3::text[]) as namespace, unnest($4::text[]) as key, unnest($5::bigint[]) as revision,
           unnest($6::bool[]) as expired
  ) as d
  where u.install_id = $1 and u.tenant_id = $2
)
delete from ext_storage_records r
using (select unnest($3::text[]) as namespace, unnest($4::text[]) as key) as d
where r.install_id = $1 and r.tenant_id = $2 and r.namespace = d.namespace and r.key = d.key
returning r.namespace, r.key, r.size_bytes

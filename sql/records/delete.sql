-- name: records.delete
-- Deletes the rows a delete plan names (DELETE of one key, bulk-delete, and later the
-- delete ops of an atomic request), after installs.lock and records.state in the same
-- transaction: the service has already decided (preconditions, 404) on that state, so this
-- statement decides nothing. Items carry their namespace. It returns what it deleted.
-- Each item is recorded as a delete change (ext_storage_changes) by the logged CTE, in this
-- statement and so in the write's transaction, at the revision the plan gave it. Its rows
-- select from the usage row (on Citus, one shard, as records.upsert), so they are the items
-- named, not the rows found. The service accounts usage from the sizes it read under the
-- lock, in a statement sent with this one and COMMIT (no round trip between them), so this
-- statement checks that it deleted exactly those rows (every item, their sizes summing to
-- $7) and otherwise fails, which rolls the whole write back: the logged CTE casts a message
-- to boolean, an error naming what differed (a data-modifying CTE always runs to the end).
-- The items are unnested in select lists, not in FROM, as in records.upsert (which says why).
-- returns: one row per row deleted (live or expired): namespace, key, size_bytes
-- $1 install_id, $2 tenant_id, $3 namespaces (text[]), $4 keys (text[]), $5 revisions
-- (bigint[], one per item), $6 expired (bool[]: the row had expired, a change with reason
-- expired), $7 bytes the rows hold (bigint: the sum of their size_bytes as read)
with deleted as (
  delete from ext_storage_records r
  using (select unnest($3::text[]) as namespace, unnest($4::text[]) as key) as d
  where r.install_id = $1 and r.tenant_id = $2 and r.namespace = d.namespace and r.key = d.key
  returning r.namespace, r.key, r.size_bytes
),
found as (
  select count(*) as n, coalesce(sum(size_bytes), 0) as bytes from deleted
),
logged as (
  insert into ext_storage_changes (install_id, revision, namespace, key, kind, expired)
  select u.install_id, d.revision, d.namespace, d.key, 'delete',
         case when f.n = cardinality($4::text[]) and f.bytes = $7::bigint then d.expired
           else ('records.delete deleted ' || f.n || ' rows of ' || f.bytes || ' bytes where the plan read '
             || cardinality($4::text[]) || ' of ' || $7::bigint || ': rolled back')::boolean
         end
  from ext_storage_usage u
  cross join found f
  cross join (
    select unnest($3::text[]) as namespace, unnest($4::text[]) as key, unnest($5::bigint[]) as revision,
           unnest($6::bool[]) as expired
  ) as d
  where u.install_id = $1 and u.tenant_id = $2
)
select namespace, key, size_bytes from deleted

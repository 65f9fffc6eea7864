-- name: records.upsert
-- Writes records decided by the service after installs.lock and records.state in the same
-- transaction: one statement for one record or a whole bulk-put; each item carries its
-- namespace. A stored expired row of
-- the key is replaced as a new record (created_at reset). The expiry is computed on the
-- database's clock: now() + ttl_seconds, else the given expires_at, else none.
-- ON CONFLICT ... SET uses only excluded.* and the stored row: Citus refuses volatile
-- functions such as now() there. The rows select from the install's usage row, so on Citus
-- the distribution column comes from a colocated table: the whole statement is pushed down
-- to the one shard (with $1 in its place, Citus would run the unnest on the coordinator).
-- Each value is stored twice from the one JSON text: value_json keeps it verbatim (what reads
-- return, tagged with its revision), value as jsonb (what the previous release reads; see the
-- 20261129190000 migration).
-- Each item is recorded as a put change (ext_storage_changes) by the logged CTE, in this
-- statement and so in the write's transaction: whatever calls records.upsert records its
-- changes. Its rows select from the usage row like the upsert's, with the same expiry, so
-- on Citus both inserts go to the install's one shard (spec section 10).
-- On Citus both INSERTs are CTEs of a SELECT: Citus 13.2 plans an INSERT … SELECT that has an
-- INSERT in a CTE as one router task but sends the CTE to the worker unrewritten (the
-- distributed tables' names, not the shards'; defaulted columns listed without values), and
-- the worker refuses it ("cannot execute a distributed query from a query on a shard",
-- "INSERT has more target columns than expressions"). As CTEs of a SELECT, each INSERT runs
-- as its own single-shard task on the install's shard, in order, in the write's transaction.
-- Every column of the change row is given, none left to its default.
-- The items are unnested in a select list (a ProjectSet), not in FROM: a function in FROM
-- materialises each array into a tuplestore of its own (16 KiB each, 12 here, freed at the
-- statement's end), and that churn made glibc give the heap back and take it again on every
-- call (4 brk and ~5 page faults a call, 600 µs of backend CPU against 200 µs this way;
-- bench/README.md, issue 13, 2026-11-30). Several functions in a select list run in step, as
-- a multi-argument unnest does. A subquery without FROM is pushed down by Citus as a
-- function in FROM is (records.get has one).
-- returns: one row per record written: namespace, key, revision, expires_at, created_at, updated_at
-- $1 install_id, $2 tenant_id, $3 extension_id, $4 namespaces (text[]), $5 keys (text[]),
-- $6 values (JSON.stringify of each value, text[]), $7 revisions (bigint[]), $8 size_bytes (int[]),
-- $9 ttl_seconds (int[], null: none), $10 expires_at (timestamptz[], null: none)
with logged as (
  insert into ext_storage_changes (install_id, revision, namespace, key, kind, expired, expires_at, created_at)
  select u.install_id, i.revision, i.namespace, i.key, 'put', false,
         coalesce(now() + make_interval(secs => i.ttl_seconds), i.expires_at), now()
  from ext_storage_usage u
  cross join (
    select unnest($4::text[]) as namespace, unnest($5::text[]) as key, unnest($7::bigint[]) as revision,
           unnest($9::integer[]) as ttl_seconds, unnest($10::timestamptz[]) as expires_at
  ) as i
  where u.install_id = $1 and u.tenant_id = $2
),
written as (
insert into ext_storage_records as r (install_id, tenant_id, extension_id, namespace, key, value,
  value_json, value_json_revision, revision, size_bytes, expires_at, created_at, updated_at)
select u.install_id, u.tenant_id, $3, i.namespace, i.key, i.value::jsonb,
       i.value::json, i.revision, i.revision, i.size_bytes,
       coalesce(now() + make_interval(secs => i.ttl_seconds), i.expires_at), now(), now()
from ext_storage_usage u
cross join (
  select unnest($4::text[]) as namespace, unnest($5::text[]) as key, unnest($6::text[]) as value,
         unnest($7::bigint[]) as revision, unnest($8::integer[]) as size_bytes,
         unnest($9::integer[]) as ttl_seconds, unnest($10::timestamptz[]) as expires_at
) as i
where u.install_id = $1 and u.tenant_id = $2
on conflict (install_id, namespace, key) do update set
  value = excluded.value,
  value_json = excluded.value_json,
  value_json_revision = excluded.value_json_revision,
  revision = excluded.revision,
  size_bytes = excluded.size_bytes,
  expires_at = excluded.expires_at,
  updated_at = excluded.updated_at,
  created_at = case
    when r.expires_at is not null and r.expires_at <= excluded.updated_at then excluded.created_at
    else r.created_at
  end
returning r.namespace, r.key, r.revision, r.expires_at, r.created_at, r.updated_at
)
select namespace, key, revision, expires_at, created_at, updated_at from written

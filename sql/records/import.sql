-- name: records.import
-- Inserts a batch of an import's records into an install found empty under its lock
-- (installs.lock, then installs.import_check, in the same transaction): no ON CONFLICT,
-- since no row can be there. Every record gets the one revision the import took from the
-- install's counter; created_at and updated_at are the import's time. The rows select from
-- the install's usage row (as records.upsert does), so on Citus the statement runs on the
-- install's shard alone, and the records take the extension the install was written by.
-- Values are stored twice from the one JSON text, as records.upsert stores them.
-- Each record is recorded as a put change at the import's revision (logged), selected from
-- the usage row like the records, so on Citus both inserts go to the install's one shard.
-- On Citus both INSERTs are CTEs of a SELECT: Citus 13.2 plans an INSERT … SELECT that has an
-- INSERT in a CTE as one router task but sends the CTE to the worker unrewritten (the
-- distributed tables' names, not the shards'; defaulted columns listed without values), and
-- the worker refuses it ("cannot execute a distributed query from a query on a shard",
-- "INSERT has more target columns than expressions"). As CTEs of a SELECT, each INSERT runs
-- as its own single-shard task on the install's shard, in order, in the write's transaction.
-- Every column of the change row is given, none left to its default.
-- returns: one row: count (records written)
-- $1 install_id, $2 tenant_id, $3 revision, $4 namespaces (text[]), $5 keys (text[]),
-- $6 values (canonical JSON text, text[]), $7 size_bytes (int[]),
-- $8 expires_at (timestamptz[], null: none)
with logged as (
  insert into ext_storage_changes (install_id, revision, namespace, key, kind, expired, expires_at, created_at)
  select u.install_id, $3, i.namespace, i.key, 'put', false, i.expires_at, now()
  from ext_storage_usage u
  cross join unnest($4::text[], $5::text[], $8::timestamptz[]) as i(namespace, key, expires_at)
  where u.install_id = $1 and u.tenant_id = $2
),
written as (
insert into ext_storage_records (install_id, tenant_id, extension_id, namespace, key, value,
  value_json, value_json_revision, revision, size_bytes, expires_at, created_at, updated_at)
select u.install_id, u.tenant_id, u.extension_id, i.namespace, i.key, i.value::jsonb,
       i.value::json, $3, $3, i.size_bytes, i.expires_at, now(), now()
from ext_storage_usage u
cross join unnest($4::text[], $5::text[], $6::text[], $7::integer[], $8::timestamptz[])
  as i(namespace, key, value, size_bytes, expires_at)
where u.install_id = $1 and u.tenant_id = $2
returning 1
)
select count(*) from written

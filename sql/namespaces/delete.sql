-- name: namespaces.delete
-- Deletes every row of a namespace after installs.lock in the same transaction and says
-- what it deleted; the service takes it off the install's usage (installs.account), the one
-- place usage and revisions of a request are accounted. (RETURNING holds plain columns only:
-- Citus refuses non-immutable functions such as now() there, so liveness is judged in the
-- outer select.)
-- When it deleted any row, it records one namespace_deleted change (key '') at the revision
-- after the install's counter, which the service accounts (installs.account): the usage row
-- is held since installs.lock, so the counter read here is the one it moves.
-- returns: exactly one row: deleted (live rows deleted; expired ones are cleanup), rows
--   (every row deleted), bytes (their size_bytes)
-- $1 install_id, $2 tenant_id, $3 namespace
with deleted as (
  delete from ext_storage_records
  where install_id = $1 and tenant_id = $2 and namespace = $3
  returning size_bytes, expires_at
),
counted as (
  select count(*) filter (where expires_at is null or expires_at > now()) as deleted,
         count(*) as rows,
         coalesce(sum(size_bytes), 0) as bytes
  from deleted
),
logged as (
  insert into ext_storage_changes (install_id, revision, namespace, key, kind)
  select u.install_id, u.last_revision + 1, $3, '', 'namespace_deleted'
  from ext_storage_usage u, counted
  where u.install_id = $1 and u.tenant_id = $2 and counted.rows > 0
)
select deleted, rows, bytes from counted

-- name: namespaces.delete
-- Deletes every row of a namespace after installs.lock in the same transaction and says
-- what it deleted; the service takes it off the install's usage (installs.account), the one
-- place usage and revisions of a request are accounted. (RETURNING holds plain columns only:
-- Citus refuses non-immutable functions such as now() there, so liveness is judged in the
-- outer select.)
-- returns: exactly one row: deleted (live rows deleted; expired ones are cleanup), rows
--   (every row deleted), bytes (their size_bytes)
-- $1 install_id, $2 tenant_id, $3 namespace
with deleted as (
  delete from ext_storage_records
  where install_id = $1 and tenant_id = $2 and namespace = $3
  returning size_bytes, expires_at
)
select count(*) filter (where expires_at is null or expires_at > now()) as deleted,
       count(*) as rows,
       coalesce(sum(size_bytes), 0) as bytes
from deleted

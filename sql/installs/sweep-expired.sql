-- name: installs.sweep_expired
-- Deletes every expired row of the install, all namespaces, and says what it deleted; the
-- service takes it off the usage row (installs.account) in the same transaction.
-- Run by a write that would cross a quota (after installs.lock: expired rows never cause a
-- rejection), and by every Nth list (TTL_LIST_SWEEP_EVERY) so read-only installs drain.
-- Takes the usage row lock before deleting any record (lock_usage), the order every write
-- uses; already held by a write, it costs nothing more.
-- Each row deleted is recorded as a delete change with reason expired (logged), at the
-- revision it takes: the counter as locked, plus its rank (the service accounts them).
-- returns: exactly one row: cleaned (rows deleted), bytes (their size_bytes), last_revision
--   (the install's counter before them; null for an install never written, where nothing
--   is deleted)
-- $1 install_id, $2 tenant_id
with lock_usage as (
  select install_id, last_revision from ext_storage_usage where install_id = $1 and tenant_id = $2 for update
),
expired as (
  delete from ext_storage_records
  where install_id = $1 and tenant_id = $2 and expires_at is not null and expires_at <= now()
    and exists (select 1 from lock_usage)
  returning namespace, key, size_bytes
),
logged as (
  insert into ext_storage_changes (install_id, revision, namespace, key, kind, expired)
  select l.install_id, l.last_revision + row_number() over (order by e.namespace, e.key), e.namespace, e.key,
         'delete', true
  from expired e cross join lock_usage l
)
select count(*) as cleaned, coalesce(sum(size_bytes), 0) as bytes,
       (select last_revision from lock_usage) as last_revision
from expired

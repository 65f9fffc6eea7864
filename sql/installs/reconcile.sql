-- name: installs.reconcile
-- Maintenance, not a request path: compares every install's usage row with the truth
-- summed over its rows. Not scoped to one install on purpose; on Citus the join is on the
-- distribution column of colocated tables, so each shard answers for its own installs.
-- returns: one row per install whose usage drifts (or whose rows have no usage row):
--   install_id, tenant_id, bytes_used, record_count, true_bytes, true_count
select coalesce(u.install_id, t.install_id) as install_id, u.tenant_id,
       coalesce(u.bytes_used, 0) as bytes_used, coalesce(u.record_count, 0) as record_count,
       coalesce(t.bytes, 0) as true_bytes, coalesce(t.n, 0) as true_count
from ext_storage_usage u
full join (
  select install_id, sum(size_bytes) as bytes, count(*) as n
  from ext_storage_records
  group by install_id
) t on t.install_id = u.install_id
where coalesce(u.bytes_used, 0) <> coalesce(t.bytes, 0)
   or coalesce(u.record_count, 0) <> coalesce(t.n, 0)
order by 1

-- name: changes.heads
-- The watch's poll (where no notification arrives, e.g. on Citus): each watched install's
-- counter and retention floor, so that only the streams of installs that changed read
-- their feed. Many installs on purpose (the ones this process streams); each pair is
-- scoped by install and tenant.
-- The = any($1) filter repeats the join's for Citus: with it the poll goes to the shards of
-- the installs named (one task per shard), without it to every shard of the usage table.
-- returns: one row per install found: install_id, last_revision, changes_floor
-- $1 install_ids (text[]), $2 their tenant_ids (text[])
select u.install_id, u.last_revision, u.changes_floor
from unnest($1::text[], $2::text[]) as w(install_id, tenant_id)
join ext_storage_usage u on u.install_id = w.install_id and u.tenant_id = w.tenant_id
where u.install_id = any($1::text[])

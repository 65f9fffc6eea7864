-- name: ttl.sweep
-- One bounded batch of the scheduled sweeper (see the migration that creates the function):
-- at most $1 installs, at most $2 expired rows each. Concurrent calls skip: the function
-- holds an advisory lock for its transaction and returns nothing when another holds it.
-- Not scoped to one install on purpose; each of its per-install statements is.
-- returns: one row per install swept: swept_tenant_id, swept_extension_id,
--   swept_install_id, deleted
-- $1 max installs, $2 max rows per install
select swept_tenant_id, swept_extension_id, swept_install_id, deleted
from ext_storage_sweep_expired($1, $2)

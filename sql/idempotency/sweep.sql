-- name: idempotency.sweep
-- One bounded batch of the idempotency sweeper (see migration 20261129220000): at most $1
-- installs, at most $2 expired entries each. Concurrent calls skip: the function holds an
-- advisory lock for its transaction and returns nothing when another holds it.
-- Not scoped to one install on purpose; each of its per-install statements is.
-- returns: one row per install swept: swept_install_id, deleted
-- $1 max installs, $2 max entries per install
select swept_install_id, deleted
from ext_storage_sweep_idempotency($1, $2)

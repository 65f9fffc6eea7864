-- name: changes.prune
-- One bounded batch of change retention (the migration that creates the function): at most
-- $2 installs, at most $3 changes each, older than $1 seconds. Concurrent calls skip: the
-- function holds an advisory lock for its transaction and returns nothing when another
-- holds it. Not scoped to one install on purpose; each of its per-install statements is.
-- returns: one row per install pruned: pruned_install_id, deleted
-- $1 retention seconds, $2 max installs, $3 max rows per install
select pruned_install_id, deleted from ext_storage_prune_changes($1, $2, $3)

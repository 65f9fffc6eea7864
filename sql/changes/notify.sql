-- name: changes.notify
-- Wakes the watch listeners of every service process (LISTEN ext_storage_changes) for an
-- install, when one is watching it (ext_storage_watched: a lease its watchers renew), so a
-- write to an install nobody watches raises no notification. Inside a write's transaction
-- it is delivered at commit and never on rollback; after a read's cleanup it is sent on
-- its own. A hint only: a watcher reads the feed for what changed, and the poll covers a
-- notification that never arrives. The lease table is not distributed: on Citus this runs
-- on the coordinator, where the listeners are.
-- returns: one row when the install is watched, else none: pg_notify (void)
-- $1 install_id
select pg_notify('ext_storage_changes', w.install_id)
from ext_storage_watched w
where w.install_id = $1::text and w.watched_until > now()

-- name: changes.notify
-- Wakes the watch listeners of every service process (LISTEN ext_storage_changes) for an
-- install. Inside a write's transaction it is delivered at commit and never on rollback;
-- after a read's cleanup it is sent on its own. A hint only: a watcher reads the feed for
-- what changed, and the poll covers a notification that never arrives.
-- returns: one row: pg_notify (void)
-- $1 install_id
select pg_notify('ext_storage_changes', $1::text)

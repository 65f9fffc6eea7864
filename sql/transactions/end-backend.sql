-- name: transactions.end_backend
-- Ends the backend still running a transaction that was given up on, so it can never
-- commit afterwards: only while that backend runs that very transaction (a pid is reused
-- by later sessions). Not scoped to an install: it reads pg_stat_activity.
-- $1 pid of the backend, $2 xid of the transaction (text of an xid8)
-- returns: one row: ended (false when no backend ran that transaction any more)
select coalesce(bool_or(pg_terminate_backend(pid)), false) as ended
from pg_stat_activity
where pid = $1 and backend_xid = xid($2::text::xid8)

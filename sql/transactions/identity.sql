-- name: transactions.identity
-- Who a write transaction is, sent first in its pipeline (no round trip of its own): the
-- backend serving it and its transaction id, assigned now (a write takes one anyway). With
-- them, a transaction whose answer was lost or late can be looked up, or ended, from
-- another connection (db/client.ts). Not scoped to an install: it reads no table.
-- returns: one row: pid, xid (as text: a 64-bit xid8)
select pg_backend_pid() as pid, pg_current_xact_id()::text as xid

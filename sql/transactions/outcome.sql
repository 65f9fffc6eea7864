-- name: transactions.outcome
-- Whether a transaction committed: 'committed', 'aborted' or 'in progress' (PostgreSQL's
-- commit log, pg_xact_status). Not scoped to an install: it reads no table.
-- $1 xid of the transaction (text of an xid8, from transactions.identity)
-- returns: one row: status
select pg_xact_status($1::text::xid8) as status

-- name: records.delete
-- Deletes the rows a delete plan names (DELETE of one key, bulk-delete, and later the
-- delete ops of an atomic request), after installs.lock and records.state in the same
-- transaction: the service has already decided (preconditions, 404) on that state, so this
-- statement decides nothing. Items carry their namespace. It returns what it deleted, so
-- the service accounts usage and revisions in one place (installs.account).
-- returns: one row per row deleted (live or expired): namespace, key, size_bytes
-- $1 install_id, $2 tenant_id, $3 namespaces (text[]), $4 keys (text[])
delete from ext_storage_records r
using unnest($3::text[], $4::text[]) as d(namespace, key)
where r.install_id = $1 and r.tenant_id = $2 and r.namespace = d.namespace and r.key = d.key
returning r.namespace, r.key, r.size_bytes

-- name: installs.account
-- Adds a write's effect to the install's usage row, held since installs.lock. Sent with the
-- write's statements and COMMIT (one round trip), so it takes the sizes read under the lock.
-- returns: nothing
-- $1 install_id, $2 tenant_id, $3 bytes delta, $4 records delta, $5 last revision handed out
update ext_storage_usage
set bytes_used = bytes_used + $3,
    record_count = record_count + $4,
    last_revision = greatest(last_revision, $5),
    updated_at = now()
where install_id = $1 and tenant_id = $2

-- name: installs.lock_existing
-- Takes an existing install's usage row lock (as installs.lock does) without creating one:
-- for purge, which must not race a write into the rows it deletes.
-- returns: one row when the install exists for that tenant, else none: locked (always 1)
-- $1 install_id, $2 tenant_id
select 1 as locked from ext_storage_usage where install_id = $1 and tenant_id = $2 for update

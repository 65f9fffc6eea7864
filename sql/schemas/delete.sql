-- name: schemas.delete
-- Removes a namespace's schema, after installs.lock in the same transaction. Its version
-- number stays used: the install's counter keeps it.
-- returns: one row when a schema was deleted, none when there was none: version (the
--   deleted one's)
-- $1 install_id, $2 tenant_id, $3 namespace
delete from ext_storage_schemas
where install_id = $1 and tenant_id = $2 and namespace = $3
returning version

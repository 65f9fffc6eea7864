-- name: installs.import_check
-- Whether an install may take an import, read after installs.lock and
-- installs.sweep_expired in the same transaction (so no expired row is left to count or to
-- collide with an imported key), and the database's clock, which decides the imported
-- records whose expiry has passed.
-- returns: exactly one row: now, records (rows of the install), schemas (its schemas)
-- $1 install_id, $2 tenant_id
select now() as now,
       (select count(*) from ext_storage_records where install_id = $1 and tenant_id = $2) as records,
       (select count(*) from ext_storage_schemas where install_id = $1 and tenant_id = $2) as schemas

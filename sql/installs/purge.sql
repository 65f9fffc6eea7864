-- name: installs.purge
-- Deletes everything of an install (records, schemas, usage row) for an uninstall, after
-- installs.lock_existing in the same transaction. Only rows of that tenant are touched.
-- returns: exactly one row: records (rows deleted)
-- $1 install_id, $2 tenant_id
with records as (
  delete from ext_storage_records where install_id = $1 and tenant_id = $2 returning 1
),
schemas as (
  delete from ext_storage_schemas where install_id = $1 and tenant_id = $2 returning 1
),
usage_row as (
  delete from ext_storage_usage where install_id = $1 and tenant_id = $2 returning 1
)
select (select count(*) from records) as records,
       (select count(*) from schemas) as schemas,
       (select count(*) from usage_row) as usage_rows

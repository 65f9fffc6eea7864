-- name: installs.export_head
-- What an export says of the install before its schemas and records: the extension it was
-- first written by and its limit overrides.
-- returns: zero rows for an install never written (or owned by another tenant), else one:
--   extension_id ('' for an install created by the admin API and never written),
--   max_bytes, max_records (overrides, null = the deployment's default)
-- $1 install_id, $2 tenant_id
select extension_id, max_bytes, max_records
from ext_storage_usage
where install_id = $1 and tenant_id = $2

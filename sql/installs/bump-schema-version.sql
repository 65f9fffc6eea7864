-- name: installs.bump_schema_version
-- Records the schema version just handed out, on the usage row held since installs.lock.
-- returns: nothing
-- $1 install_id, $2 tenant_id, $3 version
update ext_storage_usage
set last_schema_version = greatest(last_schema_version, $3), updated_at = now()
where install_id = $1 and tenant_id = $2

-- name: schemas.get
-- A namespace's schema.
-- returns: zero or one row: json_schema, version, default_ttl_seconds, max_value_bytes
-- $1 install_id, $2 tenant_id, $3 namespace
select json_schema, version, default_ttl_seconds, max_value_bytes
from ext_storage_schemas
where install_id = $1 and tenant_id = $2 and namespace = $3

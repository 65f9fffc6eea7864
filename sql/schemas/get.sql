-- name: schemas.get
-- A namespace's schema: the JSON text it was put as (json_schema_json, members in the order
-- written), or for a schema put before that column existed, jsonb's text. Either is parsed
-- by the driver, so numbers reach clients as JavaScript writes them.
-- returns: zero or one row: json_schema, version, default_ttl_seconds, max_value_bytes
-- $1 install_id, $2 tenant_id, $3 namespace
select coalesce(json_schema_json, json_schema::json) as json_schema, version, default_ttl_seconds, max_value_bytes
from ext_storage_schemas
where install_id = $1 and tenant_id = $2 and namespace = $3

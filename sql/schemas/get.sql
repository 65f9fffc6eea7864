-- name: schemas.get
-- A namespace's schema: the JSON text it was put as (json_schema_json, members in the order
-- written), or, when that is not of the schema's version (put before the column existed, or
-- since by the previous release), jsonb's text. Either is parsed by the driver, so numbers
-- reach clients as JavaScript writes them.
-- returns: zero or one row: json_schema, version, default_ttl_seconds, max_value_bytes
-- $1 install_id, $2 tenant_id, $3 namespace
select case when json_schema_json_version = version then json_schema_json else json_schema::json end as json_schema,
       version, default_ttl_seconds, max_value_bytes
from ext_storage_schemas
where install_id = $1 and tenant_id = $2 and namespace = $3

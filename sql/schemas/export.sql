-- name: schemas.export
-- Every schema of an install, for an export: the JSON text it was put as (or, for one put
-- before that column existed or since by the previous release, jsonb's text, as schemas.get).
-- returns: zero or more rows in namespace order: namespace, json_schema (parsed by the
--   driver), default_ttl_seconds, max_value_bytes
-- $1 install_id, $2 tenant_id
select namespace,
       case when json_schema_json_version = version then json_schema_json else json_schema::json end as json_schema,
       default_ttl_seconds, max_value_bytes
from ext_storage_schemas
where install_id = $1 and tenant_id = $2
order by namespace

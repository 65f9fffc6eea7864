-- name: schemas.put
-- Creates or replaces a namespace's schema, after installs.lock in the same transaction
-- (so no write of the namespace is between reading the old version and committing).
-- The version comes from the install's counter (installs.bump_schema_version), never reused.
-- The schema is stored twice from the one JSON text: verbatim (json_schema_json, what GET
-- returns, tagged with its version) and as jsonb (json_schema, what the previous release reads).
-- returns: one row: created (no schema existed)
-- $1 install_id, $2 tenant_id, $3 extension_id, $4 namespace, $5 json_schema (JSON text),
-- $6 version, $7 default_ttl_seconds (null: none), $8 max_value_bytes (null: none)
insert into ext_storage_schemas as s (install_id, tenant_id, extension_id, namespace, json_schema,
  json_schema_json, json_schema_json_version, version, default_ttl_seconds, max_value_bytes, created_at, updated_at)
values ($1, $2, $3, $4, $5::text::jsonb, $5::text::json, $6, $6, $7, $8, now(), now())
on conflict (install_id, namespace) do update set
  json_schema = excluded.json_schema,
  json_schema_json = excluded.json_schema_json,
  json_schema_json_version = excluded.json_schema_json_version,
  version = excluded.version,
  default_ttl_seconds = excluded.default_ttl_seconds,
  max_value_bytes = excluded.max_value_bytes,
  updated_at = excluded.updated_at
returning s.created_at = s.updated_at as created

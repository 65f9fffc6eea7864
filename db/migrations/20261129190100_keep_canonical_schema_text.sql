-- migrate:up

-- json_schema_json: a namespace's JSON Schema exactly as the service serialised it when it
-- was put (members in the order written), kept verbatim by the json type. GET schema returns
-- it, and the validator is compiled from it; jsonb's text of a schema full of tiny or huge
-- numbers is hundreds of times longer than what was put. Schemas put before it keep it null
-- and are read from json_schema (jsonb), members in jsonb's order. json_schema_json_version:
-- the version json_schema_json was put with; the previous release's PUT changes json_schema
-- and version only, and then json_schema (the schema in force) is read instead.
--
-- Online, Citus-safe and in its own migration for the reasons given in
-- 20261129190000_keep_canonical_value_text.sql.
do $$
begin
  alter table ext_storage_schemas add column json_schema_json json, add column json_schema_json_version bigint;
end
$$;

-- migrate:down

do $$
begin
  alter table ext_storage_schemas drop column json_schema_json_version, drop column json_schema_json;
end
$$;

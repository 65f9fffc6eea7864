-- name: records.canonical_fill
-- Maintenance (db:canonicalise), after records.canonical_batch in the same transaction:
-- stores the canonical text of each row of the batch, tagged with the revision it was
-- computed from. A row written since (another revision) is left alone: its writer's text, or
-- a later batch, wins.
-- returns: one row per row filled: key
-- $1 install_id, $2 tenant_id, $3 namespaces (text[]), $4 keys (text[]), $5 revisions
-- (bigint[]), $6 canonical texts (JSON.stringify of each value, text[])
update ext_storage_records r
set value_json = b.value_json::json, value_json_revision = b.revision
from unnest($3::text[], $4::text[], $5::bigint[], $6::text[]) as b(namespace, key, revision, value_json)
where r.install_id = $1 and r.tenant_id = $2
  and r.namespace = b.namespace and r.key = b.key and r.revision = b.revision
returning r.key

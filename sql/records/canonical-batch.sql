-- name: records.canonical_batch
-- Maintenance (db:canonicalise), after installs.lock_existing in the same transaction: one
-- batch of an install's rows whose value_json is not of their revision, in primary key order
-- after ($3, $4), with jsonb's text of each value for the service to canonicalise.
-- returns: up to $5 rows: namespace, key, revision, value (jsonb's text)
-- $1 install_id, $2 tenant_id, $3 start after this namespace, $4 and this key ('' and '' for
-- the first batch), $5 rows to return
select namespace, key, revision, value::text as value
from ext_storage_records
where install_id = $1 and tenant_id = $2 and value_json_revision is distinct from revision
  and (namespace, key) > ($3::text, $4::text collate "C")
order by namespace, key
limit $5

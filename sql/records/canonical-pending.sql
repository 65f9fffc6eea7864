-- name: records.canonical_pending
-- Maintenance, not a request path (db:canonicalise): the next installs, in install_id order
-- after $1, holding rows whose value_json is not of their revision (written before value_json
-- existed, or since by the previous release). Not scoped to one install on purpose: a
-- multi-shard GROUP BY ... LIMIT, which Citus runs; each install's rows are then filled by
-- single-shard statements.
-- returns: up to $2 rows: install_id, tenant_id
-- $1 start after this install_id ('' for the first), $2 installs to return
select install_id, tenant_id
from ext_storage_records
where value_json_revision is distinct from revision and install_id > $1::text
group by install_id, tenant_id
order by install_id
limit $2

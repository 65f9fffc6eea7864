-- name: records.get
-- Reads records by key (GET of one key, bulk-get of many) after, in the same statement, the
-- cleanup of the install's namespace (records.expired_cleanup: expired rows deleted, usage
-- and revisions adjusted, usage row locked first).
-- One round trip, one router task on Citus (every CTE filters on install_id).
-- The value comes back as the JSON text it was written as (value_json), which the service
-- passes to the client as it is: parsing it and writing it out again took a third of the
-- service's CPU on reads. A row whose value_json is not of its revision (written before
-- value_json existed, or since by the previous release, which writes only jsonb) comes back
-- as jsonb's text with value_from_jsonb, and the service canonicalises it (JSON.parse, then
-- JSON.stringify) before any client sees it.
-- returns: one row per live record found, each with cleaned (rows deleted); when none is
--   found, exactly one row with cleaned and null record columns
-- $1 install_id, $2 tenant_id, $3 namespace, $4 keys (text[])
with
-- include: records.expired_cleanup
select cleaned.n as cleaned, r.key,
       case when r.value_json_revision = r.revision then r.value_json::text else r.value::text end as value,
       r.value_json_revision is distinct from r.revision as value_from_jsonb,
       r.revision, r.expires_at, r.created_at, r.updated_at
from cleaned
left join ext_storage_records r
  on r.install_id = $1 and r.tenant_id = $2 and r.namespace = $3 and r.key = any($4::text[])
  and (r.expires_at is null or r.expires_at > now())

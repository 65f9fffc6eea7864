-- name: records.get
-- Reads one record by key (GET), and tells whether the install's namespace holds expired
-- rows (expired_pending: one index-only probe of the TTL partial index, which finds nothing
-- when nothing has expired; without tenant_id, which is not in that index: install ids are
-- unique across tenants, and a false positive would only send the cleaning statement, which
-- filters on the tenant). When it does, the service sends records.get_cleaning instead, which
-- deletes and counts them in its own statement and reads again: a read runs the cleanup's
-- CTEs only when there is something to clean (spec section 8), and otherwise costs about
-- what the plain primary-key SELECT does (bench/README.md). One key, so no byte cut: the
-- first record always fits (records.bulk_get cuts).
-- An expired record is never returned: the read keeps only a live row.
-- One round trip, one router task on Citus (every scan filters on install_id).
-- The value comes back as the JSON text it was written as (value_json), passed to the client
-- as it is; a row whose value_json is not of its revision comes back as jsonb's text with
-- value_from_jsonb, and the service canonicalises it (see records.bulk_get).
-- returns: exactly one row, its record columns (all but expired_pending) null when the key
--   holds no live record: expired_pending, key, value (text), value_from_jsonb, revision,
--   expires_at, created_at, updated_at
-- $1 install_id, $2 tenant_id, $3 namespace, $4 key
select exists (
         -- an index-only scan of the TTL index (install_id, namespace, expires_at); with
         -- tenant_id in it, the planner read the whole namespace from namespace_scan_idx
         select 1 from ext_storage_records e
         where e.install_id = $1 and e.namespace = $3 and e.expires_at <= now()
       ) as expired_pending,
       r.key, r.value, r.value_from_jsonb, r.revision, r.expires_at, r.created_at, r.updated_at
from (select) as one
left join (
  select key,
         case when value_json_revision = revision then value_json::text else value::text end as value,
         value_json_revision is distinct from revision as value_from_jsonb,
         revision, expires_at, created_at, updated_at
  from ext_storage_records
  where install_id = $1 and tenant_id = $2 and namespace = $3 and key = $4::text
    and (expires_at is null or expires_at > now())
) r on true

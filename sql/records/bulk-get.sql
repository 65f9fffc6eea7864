-- name: records.bulk_get
-- Reads records by key (bulk-get), and tells whether the install's namespace holds expired
-- rows (expired_pending, as records.get). When it does, the service sends
-- records.get_cleaning instead, which deletes and counts them in its own statement and reads
-- again; otherwise the read costs about what a plain SELECT of the same rows does.
-- An expired record is never returned: the join keeps only live rows.
-- One round trip, one router task on Citus (every table filters on install_id).
-- The value comes back as the JSON text it was written as (value_json), which the service
-- passes to the client as it is: parsing it and writing it out again took a third of the
-- service's CPU on reads. A row whose value_json is not of its revision (written before
-- value_json existed, or since by the previous release, which writes only jsonb) comes back
-- as jsonb's text with value_from_jsonb, and the service canonicalises it (JSON.parse, then
-- JSON.stringify) before any client sees it.
-- Byte cut (spec section 18): records are counted in request order; one whose preceding
-- records already reach $5 bytes (size_bytes) comes back with fits = false and no value, so
-- the database never ships more than about $5 bytes of values. The first always fits.
-- returns: one row per live record found, in request order; when none is found, exactly one
--   row with null record columns (all but expired_pending): expired_pending, key, value (text,
--   null past the byte cut), value_from_jsonb, revision, expires_at, created_at, updated_at,
--   fits
-- $1 install_id, $2 tenant_id, $3 namespace, $4 keys (text[]), $5 byte limit (STORAGE_MAX_PAGE_BYTES)
with found as (
  select r.*, coalesce(sum(r.size_bytes) over (order by k.ord rows between unbounded preceding and 1 preceding), 0)
           as before_bytes
  from unnest($4::text[]) with ordinality as k(key, ord)
  -- one primary-key probe per key: a plain join let the generic plan (one row per
  -- namespace, as the statistics average it) hash the whole namespace instead
  cross join lateral (
    select * from ext_storage_records r
    where r.install_id = $1 and r.tenant_id = $2 and r.namespace = $3 and r.key = k.key
      and (r.expires_at is null or r.expires_at > now())
    limit 1
  ) r
)
select exists (
         -- an index-only scan of the TTL index (install_id, namespace, expires_at); with
         -- tenant_id in it, the planner read the whole namespace from namespace_scan_idx
         select 1 from ext_storage_records e
         where e.install_id = $1 and e.namespace = $3 and e.expires_at <= now()
       ) as expired_pending,
       r.key,
       case when r.before_bytes < $5 then
         case when r.value_json_revision = r.revision then r.value_json::text else r.value::text end
       end as value,
       r.value_json_revision is distinct from r.revision as value_from_jsonb,
       r.revision, r.expires_at, r.created_at, r.updated_at, r.before_bytes < $5 as fits
from (select) as one
left join found r on true

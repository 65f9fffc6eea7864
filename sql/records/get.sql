-- name: records.get
-- Reads records by key (GET of one key, bulk-get of many) and, in the same statement, deletes the expired rows of the install's
-- namespace (through the TTL partial index) and takes them off the install's usage.
-- One round trip, one router task on Citus (every CTE filters on install_id).
-- The cleanup is not bounded per request: bounded to 1,000 rows, a namespace holding 100,000
-- expired rows made GET p95 20 ms while it drained, against 0.5-0.8 ms when the first read
-- takes them all (about 80 ms, once) (bun run bench:ttl).
-- Lock order: when the snapshot shows expired rows, the usage row is locked (lock_usage)
-- before the delete locks any record row, the same order writers use, so a reader never
-- deadlocks with a writer. With nothing to clean, no lock is taken at all.
-- The value comes back as the JSON text it was written as (value_json), which the service
-- passes to the client as it is: parsing it and writing it out again took a third of the
-- service's CPU on reads. A row whose value_json is not of its revision (written before
-- value_json existed, or since by the previous release, which writes only jsonb) comes back
-- as jsonb's text with value_from_jsonb, and the service canonicalises it (JSON.parse, then
-- JSON.stringify) before any client sees it.
-- Byte cut (spec section 18): records are counted in request order; one whose preceding
-- records already reach $5 bytes (size_bytes) comes back with fits = false and no value, so
-- the database never ships more than about $5 bytes of values. The first always fits.
-- returns: one row per live record found, each with cleaned (rows deleted) and fits; when
--   none is found, exactly one row with cleaned and null record columns
-- $1 install_id, $2 tenant_id, $3 namespace, $4 keys (text[]), $5 byte limit (STORAGE_MAX_PAGE_BYTES)
with expired_seen as (
  select 1 from ext_storage_records
  where install_id = $1 and tenant_id = $2 and namespace = $3
    and expires_at is not null and expires_at <= now()
  limit 1
),
lock_usage as (
  select 1 from ext_storage_usage
  where install_id = $1 and tenant_id = $2 and exists (select 1 from expired_seen)
  for update
),
expired as (
  delete from ext_storage_records
  where install_id = $1 and tenant_id = $2 and namespace = $3
    and expires_at is not null and expires_at <= now()
    and exists (select 1 from lock_usage)
  returning size_bytes
),
cleaned as (
  select count(*) as n, coalesce(sum(size_bytes), 0) as bytes from expired
),
usage_adjusted as (
  update ext_storage_usage
  set bytes_used = bytes_used - cleaned.bytes,
      record_count = record_count - cleaned.n,
      updated_at = now()
  from cleaned
  where install_id = $1 and tenant_id = $2 and cleaned.n > 0
),
found as (
  select r.*, coalesce(sum(r.size_bytes) over (order by k.ord rows between unbounded preceding and 1 preceding), 0)
           as before_bytes
  from unnest($4::text[]) with ordinality as k(key, ord)
  join ext_storage_records r
    on r.install_id = $1 and r.tenant_id = $2 and r.namespace = $3 and r.key = k.key
    and (r.expires_at is null or r.expires_at > now())
)
select cleaned.n as cleaned, r.key,
       case when r.before_bytes < $5 then
         case when r.value_json_revision = r.revision then r.value_json::text else r.value::text end
       end as value,
       r.value_json_revision is distinct from r.revision as value_from_jsonb,
       r.revision, r.expires_at, r.created_at, r.updated_at, r.before_bytes < $5 as fits
from cleaned
left join found r on true

-- name: records.list
-- One page of a namespace's live records in key byte order, and whether the namespace holds
-- expired rows (expired_pending, as records.get). When it does, the service sends
-- records.list_cleaning instead, which deletes and counts them in its own statement and
-- reads the page again; otherwise the page costs about what a plain SELECT of it does.
-- An expired record is never returned: the scan keeps only live rows.
-- Keyset pagination: the page starts after $4, inside the prefix range [$5, $6), so a walk
-- under concurrent writes never repeats a key and never skips one that lived throughout.
-- The value is read only when asked for ($8): a CASE that is false never detoasts it. It
-- comes back as the JSON text it was written as, passed on to the client unparsed, or, when
-- value_json is not of the row's revision, as jsonb's text with value_from_jsonb (see
-- records.get).
-- Byte cut (spec section 18): before_bytes is the size_bytes of the rows before this one in
-- key order; a page holds the rows whose before_bytes is under $9 (so at least one). One
-- scan of the primary key, one running sum within the $7 rows; the value is read (and a
-- toasted one detoasted) only for the rows kept, in the outer CASE, so a cut page neither
-- reads nor ships the values past the cut. (It joined the kept rows back for their value
-- before: a second index probe per row, and about 3× a plain page's database CPU.)
-- returns: up to $7 rows in key order; when the page is empty, one row with null record
--   columns (all but expired_pending): expired_pending, key, value (text, null without $8),
--   value_from_jsonb, revision, expires_at, created_at, updated_at, before_bytes
-- $1 install_id, $2 tenant_id, $3 namespace, $4 start after this key ('' for the first page),
-- $5 prefix (lower bound, inclusive), $6 upper bound of the prefix range (exclusive),
-- $7 rows to return, $8 include values (bool), $9 page byte limit (STORAGE_MAX_PAGE_BYTES)
with page as (
  select counted.key,
         case when not $8::bool then null
              when counted.value_json_revision = counted.revision then counted.value_json::text
              else counted.value::text end as value,
         counted.value_json_revision is distinct from counted.revision as value_from_jsonb,
         counted.revision, counted.expires_at, counted.created_at, counted.updated_at,
         counted.through_bytes - counted.size_bytes as before_bytes
  from (
    select c.key, c.value, c.value_json, c.value_json_revision, c.revision, c.size_bytes,
           c.expires_at, c.created_at, c.updated_at,
           sum(c.size_bytes) over running as through_bytes,
           coalesce(lag(c.size_bytes) over running, 0) as previous_bytes
    from ext_storage_records c
    where c.install_id = $1 and c.tenant_id = $2 and c.namespace = $3
      and c.key > $4::text and c.key >= $5::text and c.key < $6::text
      and starts_with(c.key, $5::text)
      and (c.expires_at is null or c.expires_at > now())
    window running as (order by c.key rows between unbounded preceding and current row)
    order by c.key
    limit $7
  ) counted
  -- the byte cut: the rows that start below $9 bytes, and the one after the last of them
  -- (which tells the service that another page follows); only these have their value read
  where counted.through_bytes - counted.size_bytes - counted.previous_bytes < $9
)
select exists (
         -- an index-only scan of the TTL index (install_id, namespace, expires_at); with
         -- tenant_id in it, the planner read the whole namespace from namespace_scan_idx
         select 1 from ext_storage_records e
         where e.install_id = $1 and e.namespace = $3 and e.expires_at <= now()
       ) as expired_pending,
       page.*
from (select) as one
left join page on true
order by page.key

-- name: records.list_cleaning
-- records.list, after deleting the namespace's expired rows in the same statement
-- (records.expired_cleanup, as records.get_cleaning). Sent only when records.list saw
-- expired rows in the namespace (expired_pending), and by the sampled sweep of the install.
-- Keyset pagination: the page starts after $4, inside the prefix range [$5, $6), so a walk
-- under concurrent writes never repeats a key and never skips one that lived throughout.
-- The value is read only when asked for ($8): a CASE that is false never detoasts it. It
-- comes back as the JSON text it was written as, passed on to the client unparsed, or, when
-- value_json is not of the row's revision, as jsonb's text with value_from_jsonb (see
-- records.get).
-- Byte cut (spec section 18): before_bytes is the size_bytes of the rows before this one in
-- key order; a page holds the rows whose before_bytes is under $9 (so at least one). The
-- running sums are taken over keys and sizes within the $7 rows (the scan stops where it did
-- before) and only the rows kept are joined back for their value, so a cut page neither
-- reads nor ships the values past the cut.
-- returns: up to $7 rows in key order; when the page is empty, one row with null record
--   columns (all but cleaned): cleaned (rows deleted), key, value (text, null without $8),
--   value_from_jsonb, revision, expires_at, created_at, updated_at, before_bytes
-- $1 install_id, $2 tenant_id, $3 namespace, $4 start after this key ('' for the first page),
-- $5 prefix (lower bound, inclusive), $6 upper bound of the prefix range (exclusive),
-- $7 rows to return, $8 include values (bool), $9 page byte limit (STORAGE_MAX_PAGE_BYTES)
with
-- include: records.expired_cleanup
,
page as (
  select r.key,
         case when not $8::bool then null
              when r.value_json_revision = r.revision then r.value_json::text
              else r.value::text end as value,
         r.value_json_revision is distinct from r.revision as value_from_jsonb,
         r.revision, r.expires_at, r.created_at, r.updated_at, counted.before_bytes
  from (
    select c.key,
           coalesce(sum(c.size_bytes) over before_this, 0) as before_bytes,
           coalesce(sum(c.size_bytes) over before_previous, 0) as before_previous_bytes
    from ext_storage_records c
    where c.install_id = $1 and c.tenant_id = $2 and c.namespace = $3
      and c.key > $4::text and c.key >= $5::text and c.key < $6::text
      and starts_with(c.key, $5::text)
      and (c.expires_at is null or c.expires_at > now())
    window before_this as (order by c.key rows between unbounded preceding and 1 preceding),
           before_previous as (order by c.key rows between unbounded preceding and 2 preceding)
    order by c.key
    limit $7
  ) counted
  join ext_storage_records r
    on r.install_id = $1 and r.tenant_id = $2 and r.namespace = $3 and r.key = counted.key
  -- the byte cut: the rows that start below $9 bytes, and the one after the last of them
  -- (which tells the service that another page follows); only these have their value read
  where counted.before_previous_bytes < $9
)
select cleaned.n as cleaned, page.*
from cleaned left join page on true
order by page.key

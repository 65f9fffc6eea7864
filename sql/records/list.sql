-- name: records.list
-- One page of a namespace's live records in key byte order, after deleting the namespace's
-- expired rows in the same statement (records.expired_cleanup, as records.get).
-- Keyset pagination: the page starts after $4, inside the prefix range [$5, $6), so a walk
-- under concurrent writes never repeats a key and never skips one that lived throughout.
-- The value is read only when asked for ($8): a CASE that is false never detoasts it. It
-- comes back as the JSON text it was written as, passed on to the client unparsed, or, when
-- value_json is not of the row's revision, as jsonb's text with value_from_jsonb (see
-- records.get).
-- returns: up to $7 rows plus, when the page is empty, one row with null record columns;
--   every row carries cleaned
-- $1 install_id, $2 tenant_id, $3 namespace, $4 start after this key ('' for the first page),
-- $5 prefix (lower bound, inclusive), $6 upper bound of the prefix range (exclusive),
-- $7 rows to return, $8 include values (bool)
with
-- include: records.expired_cleanup
,
page as (
  select r.key,
         case when not $8::bool then null
              when r.value_json_revision = r.revision then r.value_json::text
              else r.value::text end as value,
         r.value_json_revision is distinct from r.revision as value_from_jsonb,
         r.revision, r.expires_at, r.created_at, r.updated_at
  from ext_storage_records r
  where r.install_id = $1 and r.tenant_id = $2 and r.namespace = $3
    and r.key > $4::text and r.key >= $5::text and r.key < $6::text
    and starts_with(r.key, $5::text)
    and (r.expires_at is null or r.expires_at > now())
  order by r.key
  limit $7
)
select cleaned.n as cleaned, page.*
from cleaned left join page on true
order by page.key

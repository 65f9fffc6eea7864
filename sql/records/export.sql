-- name: records.export
-- One page of an install's live records for an export, in (namespace, key) order after the
-- position ($3, $4): keyset pages through the primary key, so a page costs the same at the
-- end of a million rows as at the start, and an export under concurrent writes never
-- repeats a key. A page stops at $5 rows, or earlier once the values before a row already
-- weigh $6 bytes (at least one row), so its memory is bounded whatever the value sizes.
-- Deletes nothing: an export is a read of the install as it stands, expired rows skipped.
-- The value comes as in records.list: value_json's text, or jsonb's with value_from_jsonb.
-- returns: up to $5 rows: namespace, key, value, value_from_jsonb, expires_at
-- $1 install_id, $2 tenant_id, $3 start after this namespace, $4 and this key ('' and ''
-- for the first page), $5 rows at most, $6 bytes (size_bytes summed) at most before a row
select namespace, key, value, value_from_jsonb, expires_at
from (
  select p.*, sum(p.size_bytes) over (order by p.namespace, p.key rows unbounded preceding) - p.size_bytes as before
  from (
    select r.namespace, r.key,
           case when r.value_json_revision = r.revision then r.value_json::text else r.value::text end as value,
           r.value_json_revision is distinct from r.revision as value_from_jsonb,
           r.expires_at, r.size_bytes
    from ext_storage_records r
    where r.install_id = $1 and r.tenant_id = $2
      and (r.namespace, r.key) > ($3::text, $4::text)
      and (r.expires_at is null or r.expires_at > now())
    order by r.namespace, r.key
    limit $5
  ) p
) w
where before < $6 or before = 0
order by namespace, key

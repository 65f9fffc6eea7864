-- name: changes.list
-- One page of an install's change feed (spec section 16): the changes after a position,
-- oldest first, with the install's counter and retention floor read in the same snapshot.
-- A position is (revision, namespace, key), the changes' primary key order after
-- install_id: "after every change of revision r" is (r + 1, '', ''), below any change of
-- r + 1 (a change's namespace is never empty). Since revisions follow commit order within an
-- install (taken under its usage row lock), every change up to the counter read here is
-- visible in this snapshot, so a page that is not full may hand out the counter as its
-- cursor, and a later page finds every change committed after it, exactly once.
-- The value (with $9) is the record's current one when it is still at the change's
-- revision and live; otherwise a later change of the key follows and none is sent. The
-- record is joined whether or not values are asked for: a join gated on $9 is planned away
-- when $9 is false, and Citus then sees the records table without its install and reads
-- every shard of it (test/integration/citus-router.test.ts plans both).
-- returns: one row per change, in order; when the page is empty, exactly one row with null
--   change columns (all but the install's two); no row at all for an install never written:
--   last_revision, changes_floor (the install's), revision, namespace, key, kind, expired,
--   expires_at, value (text), value_from_jsonb
-- $1 install_id, $2 tenant_id, $3 position's revision, $4 position's namespace, $5 position's
-- key, $6 namespace filter (null: all), $7 key prefix ('' : all), $8 rows to return,
-- $9 include values (bool)
with head as (
  select u.install_id, u.last_revision, u.changes_floor
  from ext_storage_usage u
  where u.install_id = $1 and u.tenant_id = $2
),
page as (
  select c.revision, c.namespace, c.key, c.kind, c.expired, c.expires_at
  from ext_storage_changes c
  join head h on h.install_id = c.install_id
  where c.install_id = $1
    and (c.revision, c.namespace, c.key) > ($3::bigint, $4::text collate "C", $5::text collate "C")
    and ($6::text is null or c.namespace = $6::text)
    and ($7::text = '' or c.kind = 'namespace_deleted' or starts_with(c.key, $7::text))
  order by c.revision, c.namespace, c.key
  limit $8
)
select h.last_revision, h.changes_floor, p.revision, p.namespace, p.key, p.kind, p.expired, p.expires_at,
       case when $9::bool and p.kind = 'put' then
         case when r.value_json_revision = r.revision then r.value_json::text else r.value::text end
       end as value,
       r.value_json_revision is distinct from r.revision as value_from_jsonb
from head h
left join page p on true
left join ext_storage_records r
  on p.kind = 'put'
  and r.install_id = $1 and r.tenant_id = $2 and r.namespace = p.namespace and r.key = p.key
  and r.revision = p.revision and (r.expires_at is null or r.expires_at > now())
order by p.revision, p.namespace, p.key

-- name: ttl.pending
-- Expired rows not yet deleted, counted up to $1 (a bound, so the count stays cheap however
-- large the backlog): scans only the TTL partial index. For the ttl_expired_rows_pending
-- gauge. Not scoped to one install on purpose.
-- returns: exactly one row: pending
-- $1 the most to count
select count(*) as pending
from (
  select 1 from ext_storage_records
  where expires_at is not null and expires_at <= now()
  limit $1
) expired

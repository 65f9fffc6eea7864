-- name: ratelimit.lease
-- Takes up to $5 whole tokens from the (tenant, install) pair's shared bucket, in one
-- statement: the bucket is refilled from the time passed since its last statement (at $3 a
-- second, up to $4), then what is granted is taken off. A new pair starts with a full bucket.
-- On Citus a single-shard upsert: the DO UPDATE SET clause uses only immutable expressions
-- and the inserted row's now() (excluded.refilled_at).
-- returns: one row: granted (0 to $5; 0 when the bucket holds less than one token), tokens
--   (the level left in the bucket, which may be fractional or below zero)
-- $1 install_id, $2 tenant_id, $3 rate (tokens a second), $4 burst (the bucket's size),
-- $5 tokens wanted (at least 1)
insert into ext_storage_rate_buckets as b (install_id, tenant_id, tokens, granted, refilled_at)
values ($1, $2, $4::float8 - least($5::int, $4::int), least($5::int, $4::int), now())
on conflict (install_id, tenant_id) do update
set granted = greatest(0, least($5::int,
      floor(least($4::float8, b.tokens + $3::float8 * greatest(0, extract(epoch from excluded.refilled_at - b.refilled_at)::float8)))::int)),
    tokens = least($4::float8, b.tokens + $3::float8 * greatest(0, extract(epoch from excluded.refilled_at - b.refilled_at)::float8))
      - greatest(0, least($5::int,
      floor(least($4::float8, b.tokens + $3::float8 * greatest(0, extract(epoch from excluded.refilled_at - b.refilled_at)::float8)))::int)),
    refilled_at = excluded.refilled_at
where b.install_id = $1 and b.tenant_id = $2
returning b.granted, b.tokens

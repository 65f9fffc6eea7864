-- name: ratelimit.give_back
-- Settles a process's share of the (tenant, install) pair's bucket when it stops using it:
-- the tokens it leased and did not spend go back (up to the burst), and a token it spent on
-- credit (a negative $5) is taken off, so leases never lose or invent tokens for long.
-- returns: nothing
-- $1 install_id, $2 tenant_id, $3 rate (tokens a second), $4 burst (the bucket's size),
-- $5 tokens given back (negative: owed)
update ext_storage_rate_buckets b
set tokens = least($4::float8,
      least($4::float8, b.tokens + $3::float8 * greatest(0, extract(epoch from now() - b.refilled_at)::float8))
      + $5::float8),
    refilled_at = now()
where b.install_id = $1 and b.tenant_id = $2

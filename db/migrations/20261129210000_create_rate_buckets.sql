-- migrate:up

-- The request rate limit's shared buckets: one row per (tenant, install) pair that has sent a
-- request, so that STORAGE_RATE_LIMIT holds for the whole deployment, not per process. A
-- service process never writes here per request: it leases a few tokens at a time
-- (sql/ratelimit/lease.sql) and spends them in memory.
--
-- tokens: the bucket's level at refilled_at (it refills at the configured rate up to the
-- burst, computed from now() by each statement; it may dip below zero when a process spent a
-- token on credit); granted: the tokens the last lease took, returned by the lease itself.
--
-- Logged, not unlogged: Citus's non-blocking shard rebalancer refuses unlogged tables, and
-- a colocated group moves together. A row is small (about 100 bytes), written once per lease.
create table ext_storage_rate_buckets (
  install_id  text             not null,
  tenant_id   text             not null,
  tokens      double precision not null,
  granted     integer          not null,
  refilled_at timestamptz      not null,
  constraint ext_storage_rate_buckets_pkey primary key (install_id, tenant_id)
);

do $$
begin
  if exists (select 1 from pg_extension where extname = 'citus') then
    perform create_distributed_table('ext_storage_rate_buckets', 'install_id', colocate_with => 'ext_storage_records');
  end if;
end
$$;

-- migrate:down

do $$
begin
  if exists (select 1 from pg_extension where extname = 'citus') then
    perform undistribute_table('ext_storage_rate_buckets');
  end if;
end
$$;

drop table ext_storage_rate_buckets;

-- migrate:up

-- The scheduled TTL sweeper: deletes expired rows in bounded batches and takes them off
-- their install's usage. Run by the service (TTL_SWEEP_INTERVAL_MS) or by pg_cron:
--   select cron.schedule('ext-storage-ttl', '* * * * *', 'select * from ext_storage_sweep_expired()');
--
-- Batches are per install, because Citus runs no multi-shard DELETE ... LIMIT: first a
-- bounded list of installs holding expired rows (a multi-shard GROUP BY ... LIMIT, which
-- Citus runs), then per install a single-shard delete of at most max_rows_per_install rows.
-- Each install's usage row is locked before its records, the lock order of every write.
--
-- A transaction-level advisory lock makes concurrent calls from any number of service
-- instances or pg_cron skip instead of contending: the loser returns no rows at once.
create function ext_storage_sweep_expired(max_installs integer default 100, max_rows_per_install integer default 1000)
returns table (swept_tenant_id text, swept_extension_id text, swept_install_id text, deleted bigint)
language plpgsql
as $$
declare
  target record;
  batch_namespaces text[];
  batch_keys text[];
begin
  -- 0x6578745f74746c ("ext_ttl"): the sweeper's advisory lock key
  if not pg_try_advisory_xact_lock(28548185618887788) then
    return;
  end if;
  for target in
    select r.install_id, r.tenant_id
    from ext_storage_records r
    where r.expires_at is not null and r.expires_at <= now()
    group by r.install_id, r.tenant_id
    order by r.install_id
    limit max_installs
  loop
    perform 1 from ext_storage_usage u
    where u.install_id = target.install_id and u.tenant_id = target.tenant_id
    for update;

    -- the batch, fixed before the delete (a LIMIT inside the delete's own subquery is not a
    -- reliable bound once the planner rescans it)
    select array_agg(e.namespace), array_agg(e.key) into batch_namespaces, batch_keys
    from (
      select x.namespace, x.key from ext_storage_records x
      where x.install_id = target.install_id and x.tenant_id = target.tenant_id
        and x.expires_at is not null and x.expires_at <= now()
      limit max_rows_per_install
    ) e;

    return query
    with doomed as (
      delete from ext_storage_records r
      using unnest(batch_namespaces, batch_keys) as b(namespace, key)
      where r.install_id = target.install_id and r.tenant_id = target.tenant_id
        and r.namespace = b.namespace and r.key = b.key
        and r.expires_at <= now()
      returning r.size_bytes, r.extension_id
    ),
    total as (
      select count(*) as n, coalesce(sum(size_bytes), 0) as bytes, min(extension_id) as extension_id from doomed
    ),
    adjusted as (
      update ext_storage_usage u
      set bytes_used = u.bytes_used - total.bytes,
          record_count = u.record_count - total.n,
          updated_at = now()
      from total
      where u.install_id = target.install_id and u.tenant_id = target.tenant_id and total.n > 0
    )
    select target.tenant_id, total.extension_id, target.install_id, total.n from total where total.n > 0;
  end loop;
end
$$;

-- migrate:down

drop function ext_storage_sweep_expired(integer, integer);

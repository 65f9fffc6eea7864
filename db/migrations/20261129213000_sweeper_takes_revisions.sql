-- migrate:up

-- Every change of an install takes a revision from its counter
-- (ext_storage_usage.last_revision), so that changes can be ordered by revision: the
-- sweeper now gives each expired row it deletes a revision of its own, as every other
-- cleanup does (docs/decisions.md, "Every change takes a revision"). The function is
-- otherwise unchanged. Its advisory-lock comment named 0x6578745f74746c ("ext_ttl"), which is
-- 28561413860783212; the key the code has always used is 28548185618887788, and it stays
-- (a changed key would let an old and a new instance sweep at once).
create or replace function ext_storage_sweep_expired(max_installs integer default 100, max_rows_per_install integer default 1000)
returns table (swept_tenant_id text, swept_extension_id text, swept_install_id text, deleted bigint)
language plpgsql
as $$
declare
  target record;
  batch_namespaces text[];
  batch_keys text[];
begin
  -- the sweeper's advisory lock key, 28548185618887788 (0x656c6c6ecbb46c); every instance
  -- and pg_cron job must use this same number
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
          last_revision = u.last_revision + total.n,
          updated_at = now()
      from total
      where u.install_id = target.install_id and u.tenant_id = target.tenant_id and total.n > 0
    )
    select target.tenant_id, total.extension_id, target.install_id, total.n from total where total.n > 0;
  end loop;
end
$$;

-- migrate:down

create or replace function ext_storage_sweep_expired(max_installs integer default 100, max_rows_per_install integer default 1000)
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

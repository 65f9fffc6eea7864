-- migrate:up

-- The change feed (spec section 16): one row per change of an install, written in the same
-- transaction as the change by the statements that make it (records.upsert, records.delete,
-- namespaces.delete, the expired-row cleanups, the sweeper below), never by a trigger
-- (Citus needs citus.enable_unsafe_triggers for those). docs/decisions.md, "Change feed".
--
-- A change is (install_id, revision, namespace, key): revisions follow commit order within
-- an install (taken under its usage row lock), and the namespace and key break the tie when
-- several changes share a revision (an atomic request). key is '' for a namespace_deleted
-- (a stored key is never empty). Both in byte order, so a cursor is stable whatever the
-- locale. No value is kept: a reader asking for values gets the record's current value when
-- it is still at the change's revision (a later change follows otherwise).
-- Change rows are not counted in the install's usage: they are the service's, not its data.
-- On Citus, this transaction's distributed statements run over one connection per node
-- (sequential mode, for this transaction only): the CREATE OR REPLACE FUNCTION below replaces
-- a function Citus has propagated to the workers, and Citus refuses that after a parallel
-- operation in the same transaction (the ALTER TABLE and create_distributed_table below are
-- parallel otherwise): "cannot run function command because there was a parallel operation
-- on a distributed table in the transaction". Set first: Citus cannot switch to sequential
-- mode after a parallel operation either.
do $$
begin
  if exists (select 1 from pg_extension where extname = 'citus') then
    perform set_config('citus.multi_shard_modify_mode', 'sequential', true);
  end if;
end
$$;

create table ext_storage_changes (
  install_id text        not null,
  revision   bigint      not null check (revision > 0),
  namespace  text collate "C" not null,
  key        text collate "C" not null,
  kind       text        not null check (kind in ('put', 'delete', 'namespace_deleted')),
  -- a delete of a row that had expired (a cleanup, or a delete that found it expired)
  expired    boolean     not null default false,
  expires_at timestamptz,
  created_at timestamptz not null default now(),
  constraint ext_storage_changes_pkey primary key (install_id, revision, namespace, key)
);

-- Retention finds old rows by time across installs: a BRIN index costs a write next to
-- nothing (rows arrive in time order) where a btree on created_at would be one more index
-- to update on every change.
create index ext_storage_changes_created_brin on ext_storage_changes using brin (created_at);

-- The revision at or below which an install's changes may have been removed (retention,
-- purge): a cursor below it is 410 CURSOR_EXPIRED.
alter table ext_storage_usage add column changes_floor bigint not null default 0;

do $$
begin
  if exists (select 1 from pg_extension where extname = 'citus') then
    perform create_distributed_table('ext_storage_changes', 'install_id', colocate_with => 'ext_storage_records');
  end if;
end
$$;

-- The installs some service process is watching, each until its lease runs out (renewed
-- while a stream is open): a write sends its wake-up notification only for these, so an
-- install nobody watches pays no NOTIFY at commit (its queue write and the commit lock it
-- takes). A hint, not data: not distributed, so on Citus it lives on the coordinator, where
-- the notification is raised and where the listeners are.
create table ext_storage_watched (
  install_id    text        not null primary key,
  watched_until timestamptz not null
);

-- The scheduled sweeper records each expired row it deletes as a delete change
-- (reason expired) at the revision it takes; otherwise unchanged.
create or replace function ext_storage_sweep_expired(max_installs integer default 100, max_rows_per_install integer default 1000)
returns table (swept_tenant_id text, swept_extension_id text, swept_install_id text, deleted bigint)
language plpgsql
as $$
declare
  target record;
  batch_namespaces text[];
  batch_keys text[];
  base_revision bigint;
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
    select u.last_revision into base_revision from ext_storage_usage u
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
      returning r.install_id, r.namespace, r.key, r.size_bytes, r.extension_id
    ),
    -- each row deleted is a delete change (reason expired) at the revision it takes
    logged as (
      insert into ext_storage_changes (install_id, revision, namespace, key, kind, expired)
      select d.install_id, base_revision + row_number() over (order by d.namespace, d.key),
             d.namespace, d.key, 'delete', true
      from doomed d
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

-- Change retention (STORAGE_CHANGES_RETENTION_SECONDS), run by the service in bounded
-- batches under its own advisory lock, like the sweeper: installs holding changes older than
-- the cutoff (a multi-shard GROUP BY ... LIMIT, which Citus runs), then per install a
-- single-shard delete of its oldest changes up to a revision, and the install's
-- changes_floor raised to that revision in the same transaction (usage row first, the lock
-- order of every write). Rows are removed as a prefix in revision order, so a cursor at or
-- above the floor still finds every later change.
create function ext_storage_prune_changes(retention_seconds integer, max_installs integer default 100, max_rows_per_install integer default 1000)
returns table (pruned_install_id text, deleted bigint)
language plpgsql
as $$
declare
  target record;
  upto bigint;
begin
  -- the retention job's advisory lock key, 28548185618638951 (not the sweeper's, so the two
  -- never skip each other); every instance must use this same number
  if not pg_try_advisory_xact_lock(28548185618638951) then
    return;
  end if;
  -- leases no process renewed
  delete from ext_storage_watched where watched_until < now();
  for target in
    select c.install_id
    from ext_storage_changes c
    where c.created_at < now() - make_interval(secs => retention_seconds)
    group by c.install_id
    order by c.install_id
    limit max_installs
  loop
    select max(o.revision) into upto from (
      select x.revision from ext_storage_changes x
      where x.install_id = target.install_id
        and x.created_at < now() - make_interval(secs => retention_seconds)
      order by x.revision
      limit max_rows_per_install
    ) o;
    continue when upto is null;

    update ext_storage_usage u set changes_floor = greatest(u.changes_floor, upto)
    where u.install_id = target.install_id;

    return query
    with gone as (
      delete from ext_storage_changes c
      where c.install_id = target.install_id and c.revision <= upto
      returning 1
    )
    select target.install_id, count(*) from gone;
  end loop;
end
$$;

-- migrate:down

drop function ext_storage_prune_changes(integer, integer, integer);

drop table ext_storage_watched;

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

-- inside a DO block: in dbmate's multi-statement string, Citus sends this ALTER TABLE of a
-- distributed table to the workers as that whole string, which they refuse ("cannot insert
-- multiple commands into a prepared statement"), as it does CREATE/DROP INDEX (contract
-- section 10)
do $$
begin
  alter table ext_storage_usage drop column changes_floor;
end
$$;

do $$
begin
  if exists (select 1 from pg_extension where extname = 'citus') then
    perform undistribute_table('ext_storage_changes');
  end if;
end
$$;

drop table ext_storage_changes;

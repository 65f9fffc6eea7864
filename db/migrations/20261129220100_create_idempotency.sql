-- migrate:up

-- Exactly-once writes (contract section 15): the first 2xx answer of a write that carried an
-- Idempotency-Key, kept with its install for STORAGE_IDEMPOTENCY_TTL_SECONDS and written in
-- the same transaction as the write. A repeat with the same key reads it back under the
-- install's lock (sql/idempotency/get.sql). The rows are the service's, not the install's
-- data: they count against no quota and are not in ext_storage_usage's figures.
--
-- request_hash: SHA-256 of the method, the raw path and the body, hex; status, headers
-- (a JSON object of the headers that matter, e.g. etag) and body (the JSON text sent, or
-- null for a 204) are the answer replayed.
create table ext_storage_idempotency (
  install_id   text        not null,
  tenant_id    text        not null,
  idem_key     text        collate "C" not null,
  request_hash text        not null,
  status       integer     not null,
  headers      jsonb       not null,
  body         text,
  created_at   timestamptz not null,
  expires_at   timestamptz not null,
  constraint ext_storage_idempotency_pkey primary key (install_id, idem_key)
);

-- the sweeper finds expired entries through this index; created before the table is
-- distributed (a CREATE INDEX on a distributed table in dbmate's multi-statement string fails
-- on Citus, contract section 10)
create index ext_storage_idempotency_expires_idx on ext_storage_idempotency (expires_at);

-- On Citus, the shards are created one connection at a time (sequential mode, for this
-- transaction only): the CREATE FUNCTION below is propagated to the workers, which Citus
-- refuses after a parallel operation in the same transaction ("cannot run function command
-- because there was a parallel operation on a distributed table in the transaction").
do $$
begin
  if exists (select 1 from pg_extension where extname = 'citus') then
    perform set_config('citus.multi_shard_modify_mode', 'sequential', true);
    perform create_distributed_table('ext_storage_idempotency', 'install_id', colocate_with => 'ext_storage_records');
  end if;
end
$$;

-- The scheduled cleanup of expired entries, as ext_storage_sweep_expired does for records:
-- at most max_installs installs found by a multi-shard GROUP BY … LIMIT (which Citus runs),
-- then per install a batch of at most max_rows_per_install keys fixed in an array and deleted
-- by a single-shard statement. Under its own transaction-level advisory lock, so concurrent
-- callers (any number of instances, or pg_cron) skip at once. Nothing to account: entries
-- are in no usage figure and take no revision.
create function ext_storage_sweep_idempotency(max_installs integer default 100, max_rows_per_install integer default 1000)
returns table (swept_install_id text, deleted bigint)
language plpgsql
as $$
declare
  target record;
  batch_keys text[];
begin
  -- the idempotency sweeper's advisory lock key, 28548185618887789 (the TTL sweeper's + 1);
  -- every instance and pg_cron job must use this same number
  if not pg_try_advisory_xact_lock(28548185618887789) then
    return;
  end if;
  for target in
    select i.install_id, i.tenant_id
    from ext_storage_idempotency i
    where i.expires_at <= now()
    group by i.install_id, i.tenant_id
    order by i.install_id
    limit max_installs
  loop
    select array_agg(e.idem_key) into batch_keys
    from (
      select x.idem_key from ext_storage_idempotency x
      where x.install_id = target.install_id and x.tenant_id = target.tenant_id and x.expires_at <= now()
      limit max_rows_per_install
    ) e;

    return query
    with doomed as (
      delete from ext_storage_idempotency d
      using unnest(batch_keys) as b(idem_key)
      where d.install_id = target.install_id and d.tenant_id = target.tenant_id
        and d.idem_key = b.idem_key and d.expires_at <= now()
      returning 1
    )
    select target.install_id, count(*) from doomed having count(*) > 0;
  end loop;
end
$$;

-- migrate:down

drop function ext_storage_sweep_idempotency(integer, integer);

do $$
begin
  if exists (select 1 from pg_extension where extname = 'citus') then
    perform undistribute_table('ext_storage_idempotency');
  end if;
end
$$;

drop table ext_storage_idempotency;

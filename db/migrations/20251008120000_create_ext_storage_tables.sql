-- migrate:up

-- One file for single-node PostgreSQL and for Citus. On Citus every statement the service
-- runs filters on install_id, the distribution column, so each is routed to one shard.
--
-- updated_at is set by the write statements themselves, not by a trigger: triggers on
-- distributed tables need citus.enable_unsafe_triggers, which we do not want to require.

-- 1. Tables.

create table ext_storage_records (
  tenant_id    text        not null,
  extension_id text        not null,
  install_id   text        not null,
  namespace    text        not null,
  -- byte order, so prefix scans and keyset cursors are stable whatever the locale
  key          text collate "C" not null,
  value        jsonb       not null,
  revision     bigint      not null check (revision > 0),
  size_bytes   integer     not null check (size_bytes > 0),
  expires_at   timestamptz,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);

create table ext_storage_schemas (
  tenant_id           text        not null,
  extension_id        text        not null,
  install_id          text        not null,
  namespace           text        not null,
  json_schema         jsonb       not null,
  version             bigint      not null check (version > 0),
  default_ttl_seconds integer     check (default_ttl_seconds > 0),
  max_value_bytes     integer     check (max_value_bytes > 0),
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now()
);

-- One row per install, created by its first write. The row is the install's lock: every
-- write takes it first, so quota checks, usage sums and the counters below are exact.
create table ext_storage_usage (
  tenant_id           text        not null,
  extension_id        text        not null,
  install_id          text        not null,
  bytes_used          bigint      not null default 0 check (bytes_used >= 0),
  record_count        bigint      not null default 0 check (record_count >= 0),
  -- per-install overrides of the quotas; null means the service's default
  max_bytes           bigint      check (max_bytes >= 0),
  max_records         bigint      check (max_records >= 0),
  -- the last revision handed out in this install: revisions come from here, so a key that
  -- is deleted and written again never gets a revision it had before
  last_revision       bigint      not null default 0,
  -- the same for namespace schema versions, which are never reused after a delete
  last_schema_version bigint      not null default 0,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now()
);

-- 2. Distribution, only where the citus extension is installed.

do $$
begin
  if exists (select 1 from pg_extension where extname = 'citus') then
    perform create_distributed_table('ext_storage_records', 'install_id');
    perform create_distributed_table('ext_storage_schemas', 'install_id', colocate_with => 'ext_storage_records');
    perform create_distributed_table('ext_storage_usage', 'install_id', colocate_with => 'ext_storage_records');
  end if;
end
$$;

-- 3. Indexes. Inside a DO block: Citus refuses index DDL on a distributed table when it
-- comes in a multi-statement query string, which is how dbmate sends a migration.

do $$
begin
  alter table ext_storage_records
    add constraint ext_storage_records_pkey primary key (install_id, namespace, key);
  alter table ext_storage_schemas
    add constraint ext_storage_schemas_pkey primary key (install_id, namespace);
  alter table ext_storage_usage
    add constraint ext_storage_usage_pkey primary key (install_id);

  -- Namespace scans (GET /v1/namespaces, namespace delete counts): index-only, without
  -- reading the keys or the values.
  create index ext_storage_records_namespace_scan_idx
    on ext_storage_records (install_id, namespace) include (tenant_id, size_bytes, expires_at);

  -- Expired-row cleanup per install and namespace reads only rows that can expire.
  create index ext_storage_records_ttl_idx
    on ext_storage_records (install_id, namespace, expires_at) where expires_at is not null;
end
$$;

-- migrate:down

do $$
begin
  drop index ext_storage_records_ttl_idx;
  drop index ext_storage_records_namespace_scan_idx;
  alter table ext_storage_usage drop constraint ext_storage_usage_pkey;
  alter table ext_storage_schemas drop constraint ext_storage_schemas_pkey;
  alter table ext_storage_records drop constraint ext_storage_records_pkey;
end
$$;

do $$
begin
  if exists (select 1 from pg_extension where extname = 'citus') then
    perform undistribute_table('ext_storage_usage');
    perform undistribute_table('ext_storage_schemas');
    perform undistribute_table('ext_storage_records');
  end if;
end
$$;

drop table ext_storage_usage;
drop table ext_storage_schemas;
drop table ext_storage_records;

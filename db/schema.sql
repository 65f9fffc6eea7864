\restrict dbmate


SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: ext_storage_prune_changes(integer, integer, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ext_storage_prune_changes(retention_seconds integer, max_installs integer DEFAULT 100, max_rows_per_install integer DEFAULT 1000) RETURNS TABLE(pruned_install_id text, deleted bigint)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: ext_storage_sweep_expired(integer, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ext_storage_sweep_expired(max_installs integer DEFAULT 100, max_rows_per_install integer DEFAULT 1000) RETURNS TABLE(swept_tenant_id text, swept_extension_id text, swept_install_id text, deleted bigint)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: ext_storage_sweep_idempotency(integer, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ext_storage_sweep_idempotency(max_installs integer DEFAULT 100, max_rows_per_install integer DEFAULT 1000) RETURNS TABLE(swept_install_id text, deleted bigint)
    LANGUAGE plpgsql
    AS $$
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


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: ext_storage_changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ext_storage_changes (
    install_id text NOT NULL,
    revision bigint NOT NULL,
    namespace text NOT NULL COLLATE pg_catalog."C",
    key text NOT NULL COLLATE pg_catalog."C",
    kind text NOT NULL,
    expired boolean DEFAULT false NOT NULL,
    expires_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ext_storage_changes_kind_check CHECK ((kind = ANY (ARRAY['put'::text, 'delete'::text, 'namespace_deleted'::text]))),
    CONSTRAINT ext_storage_changes_revision_check CHECK ((revision > 0))
);


--
-- Name: ext_storage_idempotency; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ext_storage_idempotency (
    install_id text NOT NULL,
    tenant_id text NOT NULL,
    idem_key text NOT NULL COLLATE pg_catalog."C",
    request_hash text NOT NULL,
    status integer NOT NULL,
    headers jsonb NOT NULL,
    body text,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);


--
-- Name: ext_storage_rate_buckets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ext_storage_rate_buckets (
    install_id text NOT NULL,
    tenant_id text NOT NULL,
    tokens double precision NOT NULL,
    granted integer NOT NULL,
    refilled_at timestamp with time zone NOT NULL
);


--
-- Name: ext_storage_records; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ext_storage_records (
    tenant_id text NOT NULL,
    extension_id text NOT NULL,
    install_id text NOT NULL,
    namespace text NOT NULL,
    key text NOT NULL COLLATE pg_catalog."C",
    value jsonb NOT NULL,
    revision bigint NOT NULL,
    size_bytes integer NOT NULL,
    expires_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    value_json json,
    value_json_revision bigint,
    CONSTRAINT ext_storage_records_revision_check CHECK ((revision > 0)),
    CONSTRAINT ext_storage_records_size_bytes_check CHECK ((size_bytes > 0))
);


--
-- Name: ext_storage_schemas; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ext_storage_schemas (
    tenant_id text NOT NULL,
    extension_id text NOT NULL,
    install_id text NOT NULL,
    namespace text NOT NULL,
    json_schema jsonb NOT NULL,
    version bigint NOT NULL,
    default_ttl_seconds integer,
    max_value_bytes integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    json_schema_json json,
    json_schema_json_version bigint,
    CONSTRAINT ext_storage_schemas_default_ttl_seconds_check CHECK ((default_ttl_seconds > 0)),
    CONSTRAINT ext_storage_schemas_max_value_bytes_check CHECK ((max_value_bytes > 0)),
    CONSTRAINT ext_storage_schemas_version_check CHECK ((version > 0))
);


--
-- Name: ext_storage_usage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ext_storage_usage (
    tenant_id text NOT NULL,
    extension_id text NOT NULL,
    install_id text NOT NULL,
    bytes_used bigint DEFAULT 0 NOT NULL,
    record_count bigint DEFAULT 0 NOT NULL,
    max_bytes bigint,
    max_records bigint,
    last_revision bigint DEFAULT 0 NOT NULL,
    last_schema_version bigint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    changes_floor bigint DEFAULT 0 NOT NULL,
    CONSTRAINT ext_storage_usage_bytes_used_check CHECK ((bytes_used >= 0)),
    CONSTRAINT ext_storage_usage_max_bytes_check CHECK ((max_bytes >= 0)),
    CONSTRAINT ext_storage_usage_max_records_check CHECK ((max_records >= 0)),
    CONSTRAINT ext_storage_usage_record_count_check CHECK ((record_count >= 0))
);


--
-- Name: ext_storage_watched; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ext_storage_watched (
    install_id text NOT NULL,
    watched_until timestamp with time zone NOT NULL
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version character varying NOT NULL
);


--
-- Name: ext_storage_changes ext_storage_changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ext_storage_changes
    ADD CONSTRAINT ext_storage_changes_pkey PRIMARY KEY (install_id, revision, namespace, key);


--
-- Name: ext_storage_idempotency ext_storage_idempotency_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ext_storage_idempotency
    ADD CONSTRAINT ext_storage_idempotency_pkey PRIMARY KEY (install_id, idem_key);


--
-- Name: ext_storage_rate_buckets ext_storage_rate_buckets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ext_storage_rate_buckets
    ADD CONSTRAINT ext_storage_rate_buckets_pkey PRIMARY KEY (install_id, tenant_id);


--
-- Name: ext_storage_records ext_storage_records_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ext_storage_records
    ADD CONSTRAINT ext_storage_records_pkey PRIMARY KEY (install_id, namespace, key);


--
-- Name: ext_storage_schemas ext_storage_schemas_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ext_storage_schemas
    ADD CONSTRAINT ext_storage_schemas_pkey PRIMARY KEY (install_id, namespace);


--
-- Name: ext_storage_usage ext_storage_usage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ext_storage_usage
    ADD CONSTRAINT ext_storage_usage_pkey PRIMARY KEY (install_id);


--
-- Name: ext_storage_watched ext_storage_watched_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ext_storage_watched
    ADD CONSTRAINT ext_storage_watched_pkey PRIMARY KEY (install_id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: ext_storage_changes_created_brin; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ext_storage_changes_created_brin ON public.ext_storage_changes USING brin (created_at);


--
-- Name: ext_storage_idempotency_expires_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ext_storage_idempotency_expires_idx ON public.ext_storage_idempotency USING btree (expires_at);


--
-- Name: ext_storage_records_namespace_scan_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ext_storage_records_namespace_scan_idx ON public.ext_storage_records USING btree (install_id, namespace) INCLUDE (tenant_id, size_bytes, expires_at);


--
-- Name: ext_storage_records_ttl_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ext_storage_records_ttl_idx ON public.ext_storage_records USING btree (install_id, namespace, expires_at) WHERE (expires_at IS NOT NULL);


--
-- PostgreSQL database dump complete
--

\unrestrict dbmate


--
-- Dbmate schema migrations
--

INSERT INTO public.schema_migrations (version) VALUES
    ('20251008120000'),
    ('20251101120000'),
    ('20261129190000'),
    ('20261129190100'),
    ('20261129210000'),
    ('20261129213000'),
    ('20261129220000'),
    ('20261129220100');

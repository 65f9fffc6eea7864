\restrict dbmate

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

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

SET default_tablespace = '';

SET default_table_access_method = heap;

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
    CONSTRAINT ext_storage_usage_bytes_used_check CHECK ((bytes_used >= 0)),
    CONSTRAINT ext_storage_usage_max_bytes_check CHECK ((max_bytes >= 0)),
    CONSTRAINT ext_storage_usage_max_records_check CHECK ((max_records >= 0)),
    CONSTRAINT ext_storage_usage_record_count_check CHECK ((record_count >= 0))
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version character varying NOT NULL
);


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
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


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
    ('20251008120000');

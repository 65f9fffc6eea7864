-- migrate:up

-- value_json: each record's value exactly as the service serialised it when it was written
-- (JSON.stringify of the parsed request value: members in the order written, numbers as
-- JavaScript writes them). The json type keeps its input text verbatim, so reads return it
-- as it is and its UTF-8 length is the size that was counted (size_bytes). jsonb sorts
-- object members and prints numbers in full: 9,362 × 5e-324 (65,535 bytes counted) read back
-- from jsonb as about 3 MB.
--
-- Online: a nullable column without a default is a catalog change (ACCESS EXCLUSIVE for a
-- few milliseconds; no rewrite, no scan), whatever the table's size. Rows written before it
-- keep value_json null; the service canonicalises their jsonb text when it reads them, and
-- `bun run db:canonicalise` fills it for them online, in bounded batches.
-- `value` (jsonb) stays and is still written, so instances of the previous release keep
-- reading and writing during a rolling deploy and after a rollback of the service.
-- value_json_revision: the revision value_json was written with. The previous release's
-- writes change value and revision but not value_json; a read trusts value_json only while
-- the two revisions agree, and otherwise canonicalises value, so it never serves a stale text.
--
-- In a DO block: Citus refuses some DDL on a distributed table in a multi-statement string
-- (dbmate's way of sending a migration); inside the block it is propagated to every shard.
-- One table per migration, so each takes one lock, bounded by db:migrate --safe.
do $$
begin
  alter table ext_storage_records add column value_json json, add column value_json_revision bigint;
end
$$;

-- migrate:down

do $$
begin
  alter table ext_storage_records drop column value_json_revision, drop column value_json;
end
$$;

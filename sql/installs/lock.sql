-- name: installs.lock
-- Takes the install's usage row lock for the rest of the transaction, creating the row on
-- the install's first write. Every write runs its other statements after this one, so all
-- writers of an install queue here first and then read a snapshot that holds every earlier
-- committed write: usage, quotas, revisions and preconditions are exact without
-- SERIALIZABLE. Lock order everywhere: this row, then record rows; nothing takes them the
-- other way round, so writers never deadlock (see records.get for readers).
-- Round trips of a write (src/records/pipeline.ts): this statement goes out with BEGIN and
-- records.state (or records.state_values), the write's statements with installs.account and
-- COMMIT: 2 in all, whatever the number of keys or ops (bulk, atomic).
-- An install created by the admin API has no extension yet: its first write records it.
-- returns: one row when the install belongs to the token's tenant, none when another tenant
--   owns this install_id (the write is then refused): bytes_used, record_count (all stored
--   rows, expired ones not yet cleaned included), max_bytes, max_records (overrides, null =
--   default), last_revision, last_schema_version
-- $1 install_id, $2 tenant_id, $3 extension_id
insert into ext_storage_usage as u (install_id, tenant_id, extension_id)
values ($1, $2, $3)
on conflict (install_id) do update
  set extension_id = case when u.extension_id = '' then excluded.extension_id else u.extension_id end
  where u.tenant_id = excluded.tenant_id
returning u.bytes_used, u.record_count, u.max_bytes, u.max_records, u.last_revision, u.last_schema_version

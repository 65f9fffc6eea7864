-- name: installs.set_limits
-- Sets an install's quota overrides (admin), creating its usage row when it has none yet.
-- A limit not given keeps its value; a null one goes back to the service's default.
-- returns: one row, none when the install_id belongs to another tenant: max_bytes,
--   max_records (after the change)
-- $1 install_id, $2 tenant_id, $3 max_bytes, $4 max_records, $5 set max_bytes (bool),
-- $6 set max_records (bool)
insert into ext_storage_usage as u (install_id, tenant_id, extension_id, max_bytes, max_records)
values ($1, $2, '', $3, $4)
on conflict (install_id) do update set
  max_bytes = case when $5::bool then excluded.max_bytes else u.max_bytes end,
  max_records = case when $6::bool then excluded.max_records else u.max_records end,
  updated_at = excluded.updated_at
  where u.tenant_id = excluded.tenant_id
returning u.max_bytes, u.max_records

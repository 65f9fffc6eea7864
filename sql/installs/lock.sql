-- name: installs.lock
-- Takes the install's usage row lock for the rest of the transaction, creating the row on
-- the install's first write. Every write statement runs after this one, so all writers of an
-- install queue here first and then read a snapshot that holds every earlier committed
-- write: usage sums, revisions and preconditions are exact without SERIALIZABLE.
-- Lock order everywhere: this row, then record rows. Nothing takes them the other way round.
-- returns: one row when the install belongs to the token's tenant; none when another tenant
--   owns this install_id (the write is then refused)
-- $1 install_id, $2 tenant_id, $3 extension_id
insert into ext_storage_usage as u (install_id, tenant_id, extension_id)
values ($1, $2, $3)
on conflict (install_id) do update
  set tenant_id = u.tenant_id
  where u.tenant_id = excluded.tenant_id
returning u.install_id

-- name: idempotency.put
-- Keeps a write's first 2xx answer under its Idempotency-Key, in the write's transaction
-- (once its statements answered, pipelined with COMMIT: one round trip more than the write
-- without a key, 3 in all).
-- An expired entry of the same key is replaced. ON CONFLICT … SET uses only excluded.* (Citus
-- refuses volatile functions there); the row selects from the install's usage row, so on
-- Citus the statement is routed to the install's shard.
-- returns: one row: idem_key
-- $1 install_id, $2 tenant_id, $3 idempotency key, $4 request hash (hex SHA-256),
-- $5 status, $6 headers (JSON text of an object), $7 body (JSON text, null: none),
-- $8 seconds the entry is kept
insert into ext_storage_idempotency as i (install_id, tenant_id, idem_key, request_hash, status, headers, body,
  created_at, expires_at)
select u.install_id, u.tenant_id, $3, $4, $5, $6::text::jsonb, $7, now(), now() + make_interval(secs => $8)
from ext_storage_usage u
where u.install_id = $1 and u.tenant_id = $2
on conflict (install_id, idem_key) do update set
  request_hash = excluded.request_hash,
  status = excluded.status,
  headers = excluded.headers,
  body = excluded.body,
  created_at = excluded.created_at,
  expires_at = excluded.expires_at
  where i.expires_at <= excluded.created_at
returning i.idem_key

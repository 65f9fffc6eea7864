-- name: idempotency.get
-- The answer kept for an Idempotency-Key of the install, read after installs.lock in the same
-- transaction (pipelined with it): a repeat of a write still running waits for the install's
-- lock, then sees the first one's answer. An expired entry is absent.
-- returns: at most one row: request_hash, status, headers (jsonb), body (text, null: none)
-- $1 install_id, $2 tenant_id, $3 idempotency key
select i.request_hash, i.status, i.headers, i.body
from ext_storage_idempotency i
where i.install_id = $1 and i.tenant_id = $2 and i.idem_key = $3 and i.expires_at > now()

-- name: namespaces.list
-- The install's namespaces that hold live records, with their live record count and bytes.
-- An index-only scan of ext_storage_records_namespace_scan_idx where the visibility map
-- allows. One round trip.
-- returns: one row per namespace, in byte order: namespace, record_count, bytes_used
-- $1 install_id, $2 tenant_id
select namespace, count(*) as record_count, sum(size_bytes) as bytes_used
from ext_storage_records
where install_id = $1 and tenant_id = $2
  and (expires_at is null or expires_at > now())
group by namespace
order by namespace collate "C"

-- name: health.migrations
-- The migration versions dbmate has recorded, for /readyz to compare with db/migrations.
-- Not scoped to an install: schema_migrations is a local table of the coordinator.
-- returns: one row per applied version: version
select version from schema_migrations order by version

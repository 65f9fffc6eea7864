// The naive peer of bench:peers: what a first Elysia + postgres.js version of the service's
// GET and PUT of a record would be. The value goes through JSON.parse and out again (the
// driver parses json columns; Elysia serialises the object); no auth, no TTL cleanup, no
// metrics, no logs, no revision counter or usage.
//   DATABASE_URL=… PORT=… bun bench/peers/naive.ts   (tenant: PEERS_TENANT; install: the
//   x-install header, else PEERS_INSTALL)
import { Elysia } from "elysia";
import postgres from "postgres";

const sql = postgres(process.env.DATABASE_URL as string, { max: 10 });
const install = process.env.PEERS_INSTALL ?? "peers-install-0";
const tenant = process.env.PEERS_TENANT ?? "peers-tenant";
type Row = {
  key: string;
  value: unknown;
  revision: string;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
};
const meta = (r: Row) => ({
  revision: Number(r.revision),
  expiresAt: r.expires_at?.toISOString() ?? null,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const app = new Elysia()
  .get("/v1/namespaces/:ns/records/:key", async ({ params, set, headers }) => {
    const inst = headers["x-install"] ?? install;
    const [r] = await sql<Row[]>`select key, value_json as value, revision, expires_at, created_at, updated_at
      from ext_storage_records where install_id = ${inst} and tenant_id = ${tenant} and namespace = ${params.ns}
      and key = ${params.key} and (expires_at is null or expires_at > now())`;
    if (r === undefined) {
      set.status = 404;
      return { error: "NOT_FOUND" };
    }
    set.headers.etag = `"${r.revision}"`;
    return { key: r.key, value: r.value, ...meta(r) };
  })
  .put("/v1/namespaces/:ns/records/:key", async ({ params, body, set, headers }) => {
    const inst = headers["x-install"] ?? install;
    const value = JSON.stringify((body as { value: unknown }).value);
    const [r] = await sql<Row[]>`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key,
        value, value_json, value_json_revision, revision, size_bytes)
      values (${tenant}, 'peers-ext', ${inst}, ${params.ns}, ${params.key}, ${value}::text::jsonb, ${value}::text::json, 1, 1, ${value.length})
      on conflict (install_id, namespace, key) do update set value = excluded.value, value_json = excluded.value_json,
        revision = ext_storage_records.revision + 1, value_json_revision = ext_storage_records.revision + 1,
        size_bytes = excluded.size_bytes, updated_at = now()
      returning key, revision, expires_at, created_at, updated_at`;
    set.headers.etag = `"${r?.revision}"`;
    return meta(r as Row);
  })
  .listen({ port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" });
console.log(`listening on http://127.0.0.1:${app.server?.port}`);
process.on("SIGTERM", async () => {
  await app.server?.stop();
  await sql.end({ timeout: 5 });
  process.exit(0);
});

// The floor of bench:peers: the least a Bun program does for the service's GET and PUT of a
// record. Bun.serve routes and Bun's native SQL client; the stored JSON text passed through
// unparsed, the PUT body's value written as it came (a slice of the body, no schema, no
// revision counter, no usage). No auth, no TTL, no metrics, no logs.
//   DATABASE_URL=… PORT=… bun bench/peers/floor.ts   (tenant: PEERS_TENANT; install: the
//   x-install header, else PEERS_INSTALL)
import { SQL } from "bun";

const sql = new SQL({ url: process.env.DATABASE_URL as string, max: 10 });
const install = process.env.PEERS_INSTALL ?? "peers-install-0";
const tenant = process.env.PEERS_TENANT ?? "peers-tenant";
const str = JSON.stringify;
const meta = (r: { revision: string | number; created_at: Date; updated_at: Date; expires_at: Date | null }) =>
  `"revision":${Number(r.revision)},"expiresAt":${r.expires_at === null ? "null" : str(r.expires_at.toISOString())},"createdAt":${str(r.created_at.toISOString())},"updatedAt":${str(r.updated_at.toISOString())}`;

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  routes: {
    "/v1/namespaces/:ns/records/:key": {
      async GET(req) {
        const { ns, key } = req.params;
        const inst = req.headers.get("x-install") ?? install;
        const [r] = await sql`select key, value_json::text as value, revision, expires_at, created_at, updated_at
          from ext_storage_records where install_id = ${inst} and tenant_id = ${tenant} and namespace = ${ns}
          and key = ${key} and (expires_at is null or expires_at > now())`;
        if (r === undefined) return new Response('{"error":"NOT_FOUND"}', { status: 404 });
        return new Response(`{"key":${str(r.key)},"value":${r.value},${meta(r)}}`, {
          headers: { "content-type": "application/json", etag: `"${r.revision}"` },
        });
      },
      async PUT(req) {
        const { ns, key } = req.params;
        const inst = req.headers.get("x-install") ?? install;
        const body = await req.text();
        // {"value": …}: the value's text is the body without its wrapper
        const value = body.slice(body.indexOf(":") + 1, body.lastIndexOf("}"));
        const [r] = await sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key,
            value, value_json, value_json_revision, revision, size_bytes)
          values (${tenant}, 'peers-ext', ${inst}, ${ns}, ${key}, ${value}::text::jsonb, ${value}::text::json, 1, 1, ${value.length})
          on conflict (install_id, namespace, key) do update set value = excluded.value, value_json = excluded.value_json,
            revision = ext_storage_records.revision + 1, value_json_revision = ext_storage_records.revision + 1,
            size_bytes = excluded.size_bytes, updated_at = now()
          returning key, revision, expires_at, created_at, updated_at`;
        return new Response(`{${meta(r)}}`, {
          headers: { "content-type": "application/json", etag: `"${r.revision}"` },
        });
      },
    },
  },
  fetch: () => new Response("not found", { status: 404 }),
});
console.log(`listening on http://127.0.0.1:${server.port}`);
process.on("SIGTERM", async () => {
  await server.stop();
  await sql.close();
  process.exit(0);
});

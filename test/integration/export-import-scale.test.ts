// Export → purge → import of 100,000 records through a service process of its own, whose
// memory is measured while it exports.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "../helpers/db.ts";
import { newInstall, tokenFor } from "../helpers/server.ts";
import { type Service, startService } from "../helpers/service.ts";

let service: Service;
let adminToken: string;
beforeAll(async () => {
  service = await startService(process.env.DATABASE_URL as string);
  adminToken = await tokenFor({}, "storage:admin");
});
afterAll(() => service.kill());

type Ref = ReturnType<typeof newInstall>;
const path = (i: Ref) => `${service.url}/admin/v1/tenants/${i.tenantId}/installs/${i.installId}`;
const admin = (url: string, init: RequestInit = {}) =>
  fetch(url, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...init.headers } });

/**
 * n records in three namespaces, written straight into the tables as the service writes them
 * (canonical text beside jsonb, exact sizes, usage summed): values of several kinds, member
 * order and 5e-324 included, one in ten expiring in two days, one in a thousand already
 * expired (never exported). About 250 bytes each.
 */
async function seed(i: Ref, n: number) {
  await sql`
    insert into ext_storage_records (install_id, tenant_id, extension_id, namespace, key, value,
      value_json, value_json_revision, revision, size_bytes, expires_at, created_at, updated_at)
    select ${i.installId}, ${i.tenantId}, ${i.extensionId}, namespace, key, txt::jsonb, txt::json, g, g,
           octet_length(key) + octet_length(txt), expires_at, now(), now()
    from (
      select g, (array['alpha', 'beta', 'gamma'])[1 + g % 3] as namespace, 'k' || lpad(g::text, 7, '0') as key,
             case g % 6
               when 0 then format('{"b":%s,"a":2,"pad":"%s"}', g, repeat('x', 200))
               when 1 then '5e-324'
               when 2 then format('"text é ✓ %s %s"', g, repeat('y', 200))
               when 3 then format('[1e+300,-0.5,true,null,"%s"]', repeat('z', 200))
               when 4 then format('{"nested":{"z":[1,2,{"y":"ü"}]},"n":%s,"pad":"%s"}', g, repeat('w', 200))
               else 'null'
             end as txt,
             case when g % 10 = 7 then date_trunc('milliseconds', now() + interval '2 days')
                  when g % 1000 = 3 then now() - interval '1 hour' end as expires_at
      from generate_series(1, ${n}::int) g
    ) v`;
  await sql`
    update ext_storage_usage u
    set bytes_used = t.bytes, record_count = t.n, last_revision = greatest(u.last_revision, ${n}::int + 10)
    from (select coalesce(sum(size_bytes), 0) as bytes, count(*) as n from ext_storage_records
          where install_id = ${i.installId}) t
    where u.install_id = ${i.installId}`;
}

/** Every live record as stored: namespace, key, value text, expiry; one line each. */
async function liveRecords(i: Ref): Promise<string> {
  const rows = await sql`
    select namespace, key, value_json::text as v, expires_at from ext_storage_records
    where install_id = ${i.installId} and (expires_at is null or expires_at > now())
    order by namespace, key`;
  return rows.map((r) => `${r.namespace}\t${r.key}\t${r.v}\t${r.expires_at?.toISOString() ?? ""}`).join("\n");
}

/** Reads an export to its end, sampling the service's resident memory at every chunk. */
async function exportWithPeak(i: Ref): Promise<{ text: string; peakMiB: number; ms: number }> {
  const started = performance.now();
  const res = await admin(`${path(i)}/export`);
  expect(res.status).toBe(200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let peakMiB = service.rssMiB();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(decoder.decode(value, { stream: true }));
    peakMiB = Math.max(peakMiB, service.rssMiB());
  }
  return { text: parts.join(""), peakMiB, ms: Math.round(performance.now() - started) };
}

async function pagesRead(): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith('db_query_duration_seconds_count{query="records.export"'));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

test("100,000 records: export → purge → import restores every record, schema and limit; memory stays flat", async () => {
  const big = newInstall("big");
  const small = newInstall("small");
  const writer = await tokenFor(big, "storage:read storage:write storage:schema");
  const v1 = (p: string, init: RequestInit = {}) =>
    fetch(`${service.url}/v1${p}`, {
      ...init,
      headers: { authorization: `Bearer ${writer}`, "content-type": "application/json" },
    });
  const schema = {
    jsonSchema: { type: ["object", "array", "string", "number", "null"], maxProperties: 5 },
    defaultTtlSeconds: 86_400,
  };
  expect((await v1("/namespaces/alpha/schema", { method: "PUT", body: JSON.stringify(schema) })).status).toBe(201);
  const limits = { maxBytes: 128 * 1024 * 1024, maxRecords: 200_000 };
  expect(
    (
      await admin(`${path(big)}/limits`, {
        method: "PUT",
        body: JSON.stringify(limits),
        headers: { "content-type": "application/json" },
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await admin(`${path(small)}/limits`, {
        method: "PUT",
        body: JSON.stringify({ maxRecords: 5000 }),
        headers: { "content-type": "application/json" },
      })
    ).status,
  ).toBe(200);
  await seed(big, 100_000);
  await seed(small, 1000);
  const before = await liveRecords(big);
  const usageBefore = await (await admin(`${path(big)}/usage`)).json();

  // memory: the 100,000-record export (about 100 times the 1,000) does not grow the service
  const baseMiB = service.rssMiB();
  const one = await exportWithPeak(small);
  const hundred = await exportWithPeak(big);
  const lines = hundred.text.split("\n").filter((l) => l !== "");
  console.log(
    `export RSS: base ${baseMiB.toFixed(0)} MiB, peak ${one.peakMiB.toFixed(0)} (1,000 records, ${(one.text.length / 1e6).toFixed(1)} MB) vs ${hundred.peakMiB.toFixed(0)} (100,000 records, ${(hundred.text.length / 1e6).toFixed(1)} MB, ${hundred.ms} ms)`,
  );
  // streamed: 30–44 MiB more (garbage of the pages); the whole export held: 165 MiB more
  expect(hundred.peakMiB - Math.max(one.peakMiB, baseMiB)).toBeLessThan(96);
  expect(hundred.text.length).toBeGreaterThan(20_000_000); // so buffering it whole would show
  expect(JSON.parse(lines.at(-1) as string)).toEqual({ type: "end", records: 99_900, schemas: 1 });
  expect(hundred.text).toContain('"value":5e-324,');
  expect(hundred.text).toContain('"value":{"b":6,"a":2,"pad":"');

  // a reader that stops reading holds the export back; one that leaves stops it
  const paused = await admin(`${path(big)}/export`, { signal: AbortSignal.timeout(20_000) });
  const pausedReader = (paused.body as ReadableStream<Uint8Array>).getReader();
  const pagesBefore = await pagesRead();
  await pausedReader.read();
  // until the service stops reading pages (the socket's buffers are full), at most 6 s:
  // without backpressure it would read all 100 in that time
  let pagesPaused = 0;
  for (const started = Date.now(); Date.now() - started < 6000; ) {
    await Bun.sleep(400);
    const now = (await pagesRead()) - pagesBefore;
    if (now === pagesPaused && now > 0) break;
    pagesPaused = now;
  }
  await pausedReader.cancel();
  await Bun.sleep(500);
  const pagesAfterLeaving = (await pagesRead()) - pagesBefore;
  console.log(`a paused reader: ${pagesPaused} of 100 pages read; after it left: ${pagesAfterLeaving}`);
  expect(pagesPaused).toBeLessThan(50);
  expect(pagesAfterLeaving).toBeLessThanOrEqual(pagesPaused + 1);

  expect((await admin(path(big), { method: "DELETE" })).status).toBe(204);
  expect(await liveRecords(big)).toBe("");
  const started = performance.now();
  const imported = await admin(`${path(big)}/import`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: hundred.text,
  });
  const result = await imported.json();
  console.log(
    `import of ${(hundred.text.length / 1e6).toFixed(1)} MB (${usageBefore.bytesUsed} bytes of records): ${Math.round(performance.now() - started)} ms`,
  );
  expect(imported.status).toBe(200);
  expect(result.records).toBe(99_900);
  expect(result.skippedExpired).toBe(0);
  expect(result.schemas).toBe(1);
  expect(result.revision).toBeGreaterThan(100_000); // above every revision the install gave before

  expect(await liveRecords(big)).toBe(before);
  const usageAfter = await (await admin(`${path(big)}/usage`)).json();
  expect(usageAfter).toEqual(usageBefore);
  expect(usageAfter.limits.maxRecords).toBe(200_000);
  const gotSchema = await (await v1("/namespaces/alpha/schema")).json();
  expect([gotSchema.jsonSchema, gotSchema.defaultTtlSeconds, gotSchema.maxValueBytes]).toEqual([
    schema.jsonSchema,
    86_400,
    null,
  ]);
  const read = await (await v1("/namespaces/beta/records/k0000001")).text();
  expect(read).toStartWith('{"key":"k0000001","value":5e-324,');
  const reconcile = Bun.spawnSync(["bun", "run", "db:reconcile"], { env: process.env, stdout: "pipe", stderr: "pipe" });
  expect([reconcile.exitCode, reconcile.stdout.toString()]).toEqual([0, expect.stringContaining("no drift")]);
}, 120_000);

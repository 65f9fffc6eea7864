// Many clients at once against small quotas: mixed puts, bulk-puts and bulk-deletes over
// overlapping keys in random orders, short TTLs, namespace deletes. Afterwards usage has no
// drift, no install ever stood above its quota, no deadlock happened and nothing was a 5xx.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { expectUsageExact, sql } from "../helpers/db.ts";
import { adminClient, client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const CLIENTS = 8;
const OPS_PER_CLIENT = 400;
const LIMITS = { maxBytes: 1500, maxRecords: 16 };

// a small deterministic generator, so a failure can be replayed
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function deadlocks(): Promise<number> {
  await sql`select pg_stat_clear_snapshot()`;
  const [row] = await sql`select deadlocks::int as n from pg_stat_database where datname = current_database()`;
  return row?.n as number;
}

test("concurrent mixed writers keep usage exact and within quota, without deadlocks or 5xx", async () => {
  const admin = await adminClient(server.url);
  const installs = [newInstall("c1"), newInstall("c2")];
  for (const install of installs) await admin.limits(install, LIMITS);
  const clients = await Promise.all(installs.map(async (install) => client(server.url, await tokenFor(install))));
  const deadlocksBefore = await deadlocks();
  const seen = new Map<string, number>();
  const count = (label: string) => seen.set(label, (seen.get(label) ?? 0) + 1);

  // watch the stored counters while the load runs: they may never stand above the limits
  let watching = true;
  let samples = 0;
  const over: unknown[] = [];
  const watcher = (async () => {
    for (let i = 0; i < 10_000 && watching; i++) {
      const rows = await sql`select install_id, bytes_used::int as b, record_count::int as r from ext_storage_usage
        where install_id in ${sql(installs.map((x) => x.installId))}`;
      samples++;
      for (const row of rows) if (row.b > LIMITS.maxBytes || row.r > LIMITS.maxRecords) over.push(row);
      await Bun.sleep(5);
    }
  })();

  const worker = async (w: number) => {
    const random = rng(w + 1);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const shuffled = (n: number) => [...keys].sort(() => random() - 0.5).slice(0, n);
    const value = () => "v".repeat(1 + Math.floor(random() * 150));
    for (let i = 0; i < OPS_PER_CLIENT; i++) {
      const c = pick(clients);
      const ns = pick(["a", "b"]);
      const r = random();
      let res: { status: number; body: { error?: { code: string } } };
      if (r < 0.3) res = await c.put(ns, pick(keys), { value: value(), ...(random() < 0.3 ? { ttlSeconds: 1 } : {}) });
      else if (r < 0.5)
        res = await c.bulk(ns, "bulk-put", {
          items: shuffled(2 + Math.floor(random() * 5)).map((key) => ({
            key,
            value: value(),
            ...(random() < 0.2 ? { ttlSeconds: 1 } : {}),
          })),
        });
      else if (r < 0.62) res = await c.del(ns, pick(keys));
      else if (r < 0.74) res = await c.bulk(ns, "bulk-delete", { keys: shuffled(1 + Math.floor(random() * 6)) });
      else if (r < 0.76) res = await c.call("DELETE", `/v1/namespaces/${ns}`);
      else if (r < 0.88) res = await c.get(ns, pick(keys));
      else if (r < 0.95) res = await c.list(ns, "limit=5");
      else res = await c.bulk(ns, "bulk-get", { keys: shuffled(4) });
      count(`${res.status}${res.body?.error ? ` ${res.body.error.code}` : ""}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  watching = false;
  await watcher;

  await Bun.sleep(600); // let the statistics of the last transactions be flushed
  const deadlocksAfter = await deadlocks();
  const drifts = [];
  for (const install of installs) drifts.push(await expectUsageExact(install.installId, expect));
  const final = await Promise.all(clients.map((c) => c.call("GET", "/v1/usage")));
  const fiveHundreds = [...seen].filter(([label]) => label.startsWith("5"));
  const unexpected = [...seen].filter(([label]) => !/^(200|201|204|404 NOT_FOUND|403 QUOTA_EXCEEDED)$/.test(label));

  console.log(
    `concurrency: ${CLIENTS * OPS_PER_CLIENT} operations by ${CLIENTS} clients in ${seconds.toFixed(1)} s; ` +
      `responses ${JSON.stringify(Object.fromEntries([...seen].sort()))}; usage samples ${samples}, above quota ${over.length}; ` +
      `deadlocks ${deadlocksAfter - deadlocksBefore}; drift ${JSON.stringify(drifts.map((d) => [d.bytes_used - d.true_bytes, d.record_count - d.true_count]))}`,
  );
  expect(fiveHundreds).toEqual([]);
  expect(unexpected).toEqual([]);
  expect(over).toEqual([]);
  expect(samples).toBeGreaterThan(10);
  expect(deadlocksAfter - deadlocksBefore).toBe(0);
  expect(seen.get("403 QUOTA_EXCEEDED") ?? 0).toBeGreaterThan(0);
  for (const u of final) {
    expect(u.body.bytesUsed).toBeLessThanOrEqual(LIMITS.maxBytes);
    expect(u.body.recordCount).toBeLessThanOrEqual(LIMITS.maxRecords);
  }
}, 60_000);

// STORAGE_RATE_LIMIT holds for the whole deployment: service processes against one database
// share one bucket per (tenant, install) pair (src/http/rate-lease.ts), another tenant naming
// the install still has a budget of its own, and a store that cannot answer neither turns
// requests into 500s nor refuses them all.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { type FreshDatabase, freshDatabase, runScript } from "../helpers/databases.ts";
import { sql } from "../helpers/db.ts";
import { freePort } from "../helpers/postgres.ts";
import { client, newInstall, tokenFor } from "../helpers/server.ts";
import { type Service, startService } from "../helpers/service.ts";

const RATE = 5;
const BURST = 2 * RATE;
const PATH = "/v1/namespaces/ns/records/k";

type Tally = { statuses: Map<number, number>; accepted: number; seconds: number };

/** Sends GETs of one token in turn through each service until `ms` have passed (or
 * `maxRequests` were sent), one at a time, and counts the answers. */
async function drive(services: Service[], token: string, ms: number, maxRequests = 10_000): Promise<Tally> {
  const statuses = new Map<number, number>();
  const started = performance.now();
  for (let i = 0; i < maxRequests && performance.now() - started < ms; i++) {
    const base = services[i % services.length]?.url as string;
    const res = await fetch(base + PATH, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  }
  const seconds = (performance.now() - started) / 1000;
  return { statuses, accepted: statuses.get(404) ?? 0, seconds };
}

describe("two service processes sharing one database", () => {
  let services: Service[] = [];
  beforeAll(async () => {
    const env = { STORAGE_RATE_LIMIT: String(RATE) };
    services = await Promise.all([
      startService(process.env.DATABASE_URL as string, env),
      startService(process.env.DATABASE_URL as string, env),
    ]);
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.kill()));
  });

  test("accept at most the configured rate × time + burst between them, not twice that", async () => {
    const install = newInstall("shared-rate");
    const tally = await drive(services, await tokenFor(install), 3_000);
    // every answer is a pass (404: no such record) or a refusal; nothing else
    expect([...tally.statuses.keys()].sort()).toEqual([404, 429]);
    // the bucket's whole output over the run, plus at most one credit and one lease (a
    // token at this rate) per process; each process alone used to allow all of it
    const ceiling = RATE * tally.seconds + BURST + 2 * 2;
    expect(tally.accepted).toBeLessThanOrEqual(ceiling);
    // and the budget is used, not stranded in one process's share
    expect(tally.accepted).toBeGreaterThanOrEqual(BURST + RATE * (tally.seconds - 1));
    const [bucket] = await sql`select count(*)::int as n from ext_storage_rate_buckets
      where install_id = ${install.installId} and tenant_id = ${install.tenantId}`;
    expect(bucket?.n).toBe(1);
  }, 20_000);

  test("a refusal says when to come back", async () => {
    const token = await tokenFor(newInstall("shared-retry"));
    let refused: Response | undefined;
    for (let i = 0; i < 100 && refused === undefined; i++) {
      const res = await fetch(services[i % 2]?.url + PATH, { headers: { authorization: `Bearer ${token}` } });
      if (res.status === 429) refused = res;
      else await res.arrayBuffer();
    }
    expect(refused?.headers.get("retry-after")).toBe("1");
    const body = await refused?.json();
    expect(body.error.code).toBe("RATE_LIMITED");
  });

  test("another tenant naming the install spends a budget of its own, on every process", async () => {
    const owner = newInstall("shared-owner");
    const ownerToken = await tokenFor(owner);
    const spent = await drive(services, ownerToken, 1_000);
    expect(spent.statuses.get(429)).toBeGreaterThan(0);
    const other = await drive(
      services,
      await tokenFor({ ...owner, tenantId: `${owner.tenantId}-other` }),
      5_000,
      BURST,
    );
    // the owner's bucket is empty and refills at RATE a second: these passes are the other's
    expect(other.statuses.get(404)).toBe(BURST);
  });
});

test("no statement per request: an install under its rate costs a lease per half a lease of requests", async () => {
  const metricsToken = "rate-shared-metrics-token";
  // a lease of 10 tokens (a tenth of 100/s); 150 requests stay within the burst of 200
  const service = await startService(process.env.DATABASE_URL as string, {
    STORAGE_RATE_LIMIT: "100",
    METRICS_TOKEN: metricsToken,
  });
  try {
    const token = await tokenFor(newInstall("shared-hot"));
    const tally = await drive([service], token, 30_000, 150);
    expect(tally.statuses.get(404)).toBe(150);
    const metrics = await (
      await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })
    ).text();
    const leases = metrics
      .split("\n")
      .filter((l) => l.startsWith("db_query_duration_seconds_count{") && l.includes('query="ratelimit.lease"'))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
    // one lease per 5 requests spent (below half a lease), plus the first
    expect(leases).toBeGreaterThan(0);
    expect(leases).toBeLessThanOrEqual(150 / 5 + 2);
  } finally {
    await service.kill();
  }
}, 20_000);

describe("a store that cannot answer", () => {
  let db: FreshDatabase;
  let service: Service | undefined;
  beforeAll(async () => {
    db = await freshDatabase("rate_store");
    expect((await runScript("db:migrate", [], db.url)).code).toBe(0);
  });
  afterAll(async () => {
    await service?.kill();
    await db.drop();
  });

  test("a locked bucket table: requests pass under the per-process rate, never 500", async () => {
    service = await startService(db.url, { STORAGE_RATE_LIMIT: String(RATE) });
    const install = newInstall("store-locked");
    const c = client(service.url, await tokenFor(install));
    const holder = postgres(db.url, { max: 1, onnotice: () => {} });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const held = holder.begin(async (tx) => {
      await tx`lock table ext_storage_rate_buckets in access exclusive mode`;
      locked();
      await released;
    });
    try {
      await isLocked;
      const first = [(await c.get("ns", "k")).status, (await c.get("ns", "k")).status];
      // the first passes on credit, the next once the lease is given up on; then this
      // process's own bucket decides: the rate, with a burst of one lease (a token at RATE),
      // so of requests sent at once most are refused
      expect(first).toEqual([404, 404]);
      const together = await Promise.all(Array.from({ length: BURST }, async () => (await c.get("ns", "k")).status));
      expect(together.filter((s) => s !== 404 && s !== 429)).toEqual([]);
      expect(together.filter((s) => s === 429).length).toBeGreaterThan(BURST / 2);
    } finally {
      release();
      await held;
      await holder.end();
    }
    expect(service.alive()).toBe(true);
  }, 20_000);

  test("an unreachable database: 503 UNAVAILABLE (429 past this process's rate), never 500", async () => {
    const closed = Object.assign(new URL(db.url), { port: String(await freePort()) }).toString();
    const down = await startService(closed, { STORAGE_RATE_LIMIT: String(RATE) }, { waitFor: "/healthz" });
    try {
      const c = client(down.url, await tokenFor(newInstall("store-down")));
      const statuses: number[] = [];
      for (let i = 0; i < BURST; i++) statuses.push((await c.get("ns", "k")).status);
      expect(statuses.slice(0, 2)).toEqual([503, 503]);
      expect(statuses.filter((s) => s !== 503 && s !== 429)).toEqual([]);
    } finally {
      await down.kill();
    }
  }, 20_000);
});

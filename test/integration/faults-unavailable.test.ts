// Database errors of every kind are 503 UNAVAILABLE with Retry-After, never 500, and /readyz
// answers within 2 s whatever the database does. Each kind is a real failure met by the
// service as its own process: a host name that does not resolve, a closed port, a server
// that accepts and never answers, a backend killed mid-request, a role at its connection
// limit, a read-only server.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { freePort } from "../helpers/postgres.ts";
import { newInstall, tokenFor } from "../helpers/server.ts";
import { startService, until } from "../helpers/service.ts";

// the contract's 2 s, with room for a loaded test machine to deliver the answer
const READY_BOUND_MS = 2_500;
const PATH = "/v1/namespaces/ns/records/k";

type Answer = { status: number; headers: Headers; text: string; ms: number };

async function call(base: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(base + path, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, ms: performance.now() - started };
}

function expectUnavailable(res: Answer) {
  expect([res.status, res.headers.get("content-type"), res.headers.get("retry-after")]).toEqual([
    503,
    "application/json",
    "1",
  ]);
  const body = JSON.parse(res.text);
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe("UNAVAILABLE");
  expect(typeof body.error.message).toBe("string");
  expect(res.headers.get("x-request-id")).toBeTruthy();
  expect(res.text).not.toMatch(/\bat .*\.ts|select |insert |ext_storage_|getaddrinfo/i);
}

async function expectNotReadyInTime(base: string) {
  const ready = await call(base, "/readyz");
  expectUnavailable(ready);
  expect(ready.ms).toBeLessThan(READY_BOUND_MS);
}

/** The service on a database it cannot use: every kind of request gets 503, readiness says
 * so in time, liveness and metrics hold, and the process stays up. */
async function expectUnavailableOn(databaseUrl: string) {
  const service = await startService(databaseUrl, {}, { waitFor: "/healthz" });
  try {
    const install = newInstall("unavailable");
    const auth = { authorization: `Bearer ${await tokenFor(install)}` };
    // at once: against a silent server each waits out the request-path bound (5 s)
    const answers = await Promise.all([
      call(service.url, PATH, { headers: auth }),
      call(service.url, PATH, {
        method: "PUT",
        headers: { ...auth, "content-type": "application/json" },
        body: '{"value":1}',
      }),
      call(service.url, "/v1/namespaces/ns/records", { headers: auth }),
      call(service.url, "/v1/usage", { headers: auth }),
    ]);
    for (const answer of answers) expectUnavailable(answer);
    await expectNotReadyInTime(service.url);
    // several probes at once while the database is away: each still answers in time
    const probes = await Promise.all([1, 2, 3, 4].map(() => call(service.url, "/readyz")));
    for (const probe of probes) expect([probe.status, probe.ms < READY_BOUND_MS]).toEqual([503, true]);
    expect((await call(service.url, "/healthz")).status).toBe(200);
    expect((await call(service.url, "/metrics")).status).toBe(200);
    expect(service.alive()).toBe(true);
  } finally {
    await service.kill();
  }
}

describe("the database cannot be reached", () => {
  test("a host name that does not resolve (.invalid never does)", async () => {
    await expectUnavailableOn("postgres://u@no-such-host.invalid:5432/db");
  }, 30_000);

  test("a loopback port nobody listens on (connection refused)", async () => {
    await expectUnavailableOn(`postgres://u@127.0.0.1:${await freePort()}/db`);
  }, 30_000);

  test("a server that accepts connections and never answers: readiness in time, requests bounded", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      await expectUnavailableOn(`postgres://u@127.0.0.1:${silent.port}/db`);
    } finally {
      silent.stop(true);
    }
  }, 60_000);
});

describe("the database refuses or fails the work", () => {
  const admin = postgres(process.env.DATABASE_URL as string, { max: 2, onnotice: () => {} });
  const roleUrl = (role: string) => Object.assign(new URL(process.env.DATABASE_URL as string), { username: role });
  const limited = `limited_${process.pid}`;
  const readOnly = `read_only_${process.pid}`;
  beforeAll(async () => {
    await admin.unsafe(`create role ${limited} login connection limit 0`);
    await admin.unsafe(`create role ${readOnly} login`);
    await admin.unsafe(`grant all on all tables in schema public to ${readOnly}`);
    await admin.unsafe(`grant all on all sequences in schema public to ${readOnly}`);
    await admin.unsafe(`alter role ${readOnly} set default_transaction_read_only = on`);
  });
  afterAll(async () => {
    for (const role of [limited, readOnly]) {
      await admin.unsafe(`drop owned by ${role}`).catch(() => {});
      await admin.unsafe(`drop role if exists ${role}`);
    }
    await admin.end();
  });

  test("too many connections (53300: a role at its connection limit)", async () => {
    await expectUnavailableOn(roleUrl(limited).toString());
  }, 30_000);

  test("a read-only server (25006): writes get 503, never 500", async () => {
    const service = await startService(roleUrl(readOnly).toString());
    try {
      const auth = { authorization: `Bearer ${await tokenFor(newInstall("read-only"))}` };
      const write = { ...auth, "content-type": "application/json" };
      expectUnavailable(await call(service.url, PATH, { method: "PUT", headers: write, body: '{"value":1}' }));
      expectUnavailable(
        await call(service.url, "/v1/namespaces/ns/bulk-put", {
          method: "POST",
          headers: write,
          body: '{"items":[{"key":"a","value":1}]}',
        }),
      );
      expectUnavailable(await call(service.url, PATH, { method: "DELETE", headers: auth }));
      expect((await call(service.url, "/readyz")).ms).toBeLessThan(READY_BOUND_MS);
      expect(service.alive()).toBe(true);
    } finally {
      await service.kill();
    }
  }, 30_000);

  test("the backend serving a request is terminated (57P01), then the service recovers", async () => {
    const service = await startService(process.env.DATABASE_URL as string);
    const install = newInstall("terminated");
    const auth = { authorization: `Bearer ${await tokenFor(install)}` };
    const write = { ...auth, "content-type": "application/json" };
    try {
      expect((await call(service.url, PATH, { method: "PUT", headers: write, body: '{"value":1}' })).status).toBe(201);
      // hold the install's lock row, so the next write waits on it inside the database
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let holderPid = 0;
      const holder = admin.begin(async (tx) => {
        [{ pid: holderPid }] = await tx`select pg_backend_pid() as pid`;
        await tx`select 1 from ext_storage_usage where install_id = ${install.installId} for update`;
        await held;
      });
      await until("the lock to be held", async () => holderPid !== 0, 5_000);
      const blocked = call(service.url, PATH, { method: "PUT", headers: write, body: '{"value":2}' });
      let victims: { pid: number }[] = [];
      await until(
        "the write to wait on the lock",
        async () => {
          victims = await admin`select pid from pg_stat_activity where ${holderPid} = any(pg_blocking_pids(pid))`;
          return victims.length > 0;
        },
        5_000,
      );
      for (const { pid } of victims) await admin`select pg_terminate_backend(${pid})`;
      expectUnavailable(await blocked);
      release();
      await holder;
      await until(
        "a write to succeed again",
        async () =>
          (await call(service.url, PATH, { method: "PUT", headers: write, body: '{"value":3}' })).status === 200,
        5_000,
      );
      expect(service.alive()).toBe(true);
    } finally {
      await service.kill();
    }
  }, 30_000);
});

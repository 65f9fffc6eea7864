// The bulk-writes chain against a small stand-in HTTP server that keeps the contract's quota
// rules in memory (no database involved): it proves the driver's own accounting, and that it
// reports a wrong refusal or a usage drift as a failure. The same scenario runs against the
// real service in test/integration/load.test.ts once GET /v1/usage exists.
import { afterAll, describe, expect, test } from "bun:test";
import { jwtVerify } from "jose";
import { parseOptions } from "../../bench/load/options.ts";
import { runSub } from "../../bench/load/run.ts";
import { externalTarget } from "../../bench/load/server.ts";

const SECRET = "quota-stand-in-secret-0123456789abcdef";
type Faults = { wrongUsed?: boolean; usageDrift?: boolean; wrongStatus?: boolean };

function standIn(limits: { maxBytes: number; maxRecords: number }, faults: Faults = {}) {
  const installs = new Map<string, Map<string, number>>();
  const usage = (id: string) => {
    const rows = installs.get(id) ?? new Map();
    return { bytes: [...rows.values()].reduce((a, b) => a + b, 0), records: rows.size };
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const token = (req.headers.get("authorization") ?? "").slice(7);
      const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET));
      const id = payload.install_id as string;
      const rows = installs.get(id) ?? new Map<string, number>();
      installs.set(id, rows);
      const path = new URL(req.url).pathname;
      if (path === "/v1/usage") {
        const u = usage(id);
        return Response.json({
          bytesUsed: u.bytes + (faults.usageDrift ? 1 : 0),
          recordCount: u.records,
          limits: { ...limits, maxValueBytes: 65536 },
        });
      }
      if (req.method === "DELETE") {
        const n = rows.size;
        rows.clear();
        return Response.json({ deleted: n });
      }
      const body = (await req.json()) as { items: { key: string; value: unknown }[] };
      const sizes = body.items.map((i) => Buffer.byteLength(i.key) + Buffer.byteLength(JSON.stringify(i.value)));
      const requested = sizes.reduce((a, b) => a + b, 0);
      const u = usage(id);
      const refuse = (details: object) =>
        Response.json(
          { error: { code: "QUOTA_EXCEEDED", message: "quota", details } },
          { status: faults.wrongStatus ? 400 : 403 },
        );
      if (u.records + body.items.length > limits.maxRecords) {
        return refuse({ kind: "records", limit: limits.maxRecords, used: u.records, requested: body.items.length });
      }
      if (u.bytes + requested > limits.maxBytes) {
        return refuse({ kind: "bytes", limit: limits.maxBytes, used: u.bytes + (faults.wrongUsed ? 7 : 0), requested });
      }
      for (const [i, item] of body.items.entries()) rows.set(item.key, sizes[i] as number);
      return Response.json({
        items: body.items.map((i) => ({ key: i.key, revision: 1, created: true, expiresAt: null })),
      });
    },
  });
  return server;
}

const options = parseOptions(
  ["--prefix", "bw", "--bulk-installs", "2", "--bulk-batch", "8", "--duration", "20", "--warmup", "0"],
  {},
);
const servers: ReturnType<typeof Bun.serve>[] = [];
const run = async (limits: { maxBytes: number; maxRecords: number }, faults?: Faults) => {
  const server = standIn(limits, faults);
  servers.push(server);
  return runSub(
    externalTarget(`http://127.0.0.1:${server.port}`, SECRET, "ext-storage"),
    options,
    "bulk-writes",
    undefined,
  );
};
afterAll(() => {
  for (const s of servers) s.stop(true);
});

describe("bulk-writes chain", () => {
  test("fills the bytes quota, halving the batch on each refusal, and finds usage exact", async () => {
    const sub = await run({ maxBytes: 600_000, maxRecords: 10_000 });
    expect(sub.checks.map((c) => c.ok)).toEqual([true, true]);
    expect(sub.checks[0]?.detail).toContain("all QUOTA_EXCEEDED as expected");
    expect(sub.errors).toEqual({});
    // halving from 8 down to a refused single item: at least 4 refusals per chain
    expect(sub.operations["bulk-put-refused"]?.ok).toBeGreaterThanOrEqual(8);
    expect(sub.verdict).toBe("pass");
  });

  test("fills a records quota too", async () => {
    const sub = await run({ maxBytes: 10 ** 9, maxRecords: 37 });
    expect(sub.checks.map((c) => c.ok)).toEqual([true, true]);
    expect(sub.checks[0]?.detail).toContain("37 records");
  });

  test("a refusal with wrong details, another status, or a usage that drifts is a failure", async () => {
    for (const faults of [{ wrongUsed: true }, { wrongStatus: true }, { usageDrift: true }]) {
      const sub = await run({ maxBytes: 300_000, maxRecords: 10_000 }, faults);
      expect(sub.verdict).toBe("fail");
      expect(sub.checks.some((c) => !c.ok)).toBe(true);
    }
  });
});

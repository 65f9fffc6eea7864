// bulk-writes: per install, a chain of bulk-puts of new keys with values of 1–64 KiB until
// the install's quota refuses one. Every refusal must be 403 QUOTA_EXCEEDED with details
// {kind, limit, used, requested} that agree with what the driver had written; then the
// batch is halved and the chain goes on, until a single item is refused. At the end
// GET /v1/usage must equal the usage at the start plus exactly what was accepted.
// A chain is closed loop (each bulk-put waits for the one before), so its latencies are
// service times; quota enforcement, not the arrival rate, is what this scenario tests.
import { call } from "../client.ts";
import { type Fixture, type Install, makeValue, population } from "../data.ts";
import { derive } from "../random.ts";
import type { Check, ScenarioContext, ScenarioResult } from "./context.ts";

// an expected refusal is the scenario working, not an error: it is timed as its own operation
export const BULK_OPS = { "bulk-put": "write", "bulk-put-refused": "write", usage: "read" } as const;
const NAMESPACE = "bulk";
const MAX_CALLS_PER_CHAIN = 5_000;
/** ≤ 50 requests/s per install, well under the default rate limit of 100 */
const CHAIN_PAUSE_MS = 20;

type Usage = { bytesUsed: number; recordCount: number; limits: { maxBytes: number; maxRecords: number } };

export const isUsage = (u: unknown): u is Usage =>
  typeof (u as Usage)?.bytesUsed === "number" &&
  typeof (u as Usage)?.recordCount === "number" &&
  typeof (u as Usage)?.limits?.maxBytes === "number" &&
  typeof (u as Usage)?.limits?.maxRecords === "number";

/** Whether a refusal is exactly the one the contract promises for this request. */
export function checkRefusal(
  reply: { status: number; code: string | undefined; body: unknown },
  expect: { usedBytes: number; usedRecords: number; bytes: number; records: number; limits: Usage["limits"] },
): string | undefined {
  if (reply.status !== 403 || reply.code !== "QUOTA_EXCEEDED") return `${reply.status} ${reply.code}`;
  const d = (reply.body as { error?: { details?: Record<string, unknown> } })?.error?.details;
  if (d === undefined) return "QUOTA_EXCEEDED without details";
  const [limit, used, requested] =
    d.kind === "bytes"
      ? [expect.limits.maxBytes, expect.usedBytes, expect.bytes]
      : d.kind === "records"
        ? [expect.limits.maxRecords, expect.usedRecords, expect.records]
        : [undefined, undefined, undefined];
  if (limit === undefined) return `unknown kind ${JSON.stringify(d.kind)}`;
  if (d.limit !== limit || d.used !== used || d.requested !== requested) {
    return `details ${JSON.stringify(d)}, expected {kind: "${d.kind}", limit: ${limit}, used: ${used}, requested: ${requested}}`;
  }
  if ((used as number) + (requested as number) <= (limit as number))
    return `refused though it fits: ${JSON.stringify(d)}`;
  return undefined;
}

export async function bulkWrites(ctx: ScenarioContext): Promise<ScenarioResult> {
  const o = ctx.options;
  const installs = population(`${o.prefix}-bulk`, Math.max(1, Math.ceil(o.bulkInstalls / 3)), 3).slice(
    0,
    o.bulkInstalls,
  );
  const base = ctx.target.url;
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const deadline = (o.warmupSec + o.durationSec) * 1000;
  const checks: Check[] = [];
  const opsByInstall = new Map<string, number>();

  // values of 1–64 KiB from every fixture, built once
  const rndValues = derive(o.seed, "bulk-writes/values");
  const wide = ctx.fixtures.map((f): Fixture => ({ ...f, sizeKiB: [1, 64] }));
  const values = Array.from({ length: 48 }, (_, j) => {
    const f = wide[j % wide.length] as Fixture;
    const bytes = Math.min(65_000, Math.round(1024 * 64 ** rndValues.next()));
    return JSON.stringify(makeValue(f, rndValues, bytes));
  });
  const valueBytes = values.map((v) => Buffer.byteLength(v, "utf8"));

  const chain = async (install: Install): Promise<Check> => {
    const token = await ctx.token(install);
    const name = `quota of ${install.installId}`;
    const cleared = await call(base, token, "DELETE", `/v1/namespaces/${NAMESPACE}`);
    if (cleared.code !== undefined) return { name, ok: false, detail: `clearing: ${cleared.code}` };
    const start = await call(base, token, "GET", "/v1/usage");
    if (start.status === 404) return { name, ok: true, detail: "skipped: GET /v1/usage answers 404" };
    if (!isUsage(start.body)) return { name, ok: false, detail: `GET /v1/usage: ${start.status} ${start.code}` };
    const limits = start.body.limits;
    const rnd = derive(o.seed, `bulk-writes/${install.installId}`);
    let acceptedBytes = 0;
    let acceptedRecords = 0;
    let refusals = 0;
    let batch = o.bulkBatch;
    let nextKey = 0;
    for (let calls = 0; calls < MAX_CALLS_PER_CHAIN && batch >= 1 && !ctx.shouldStop(); calls++) {
      if (now() > deadline) return { name, ok: false, detail: `quota not reached within ${deadline / 1000} s` };
      const items: string[] = [];
      let bytes = 0;
      for (let j = 0; j < batch; j++) {
        const key = `blk/${String(nextKey + j).padStart(6, "0")}`;
        const v = rnd.int(0, values.length - 1);
        items.push(`{"key":"${key}","value":${values[v]}}`);
        bytes += Buffer.byteLength(key, "utf8") + (valueBytes[v] as number);
      }
      const sent = now();
      const reply = await call(base, token, "POST", `/v1/namespaces/${NAMESPACE}/bulk-put`, `{"items":[${items}]}`);
      opsByInstall.set(install.installId, (opsByInstall.get(install.installId) ?? 0) + 1);
      if (reply.code === undefined) {
        ctx.recorder.record("bulk-put", sent, now());
        acceptedBytes += bytes;
        acceptedRecords += batch;
        nextKey += batch;
        if (start.body.bytesUsed + acceptedBytes > limits.maxBytes) {
          return { name, ok: false, detail: `accepted past the bytes quota (${limits.maxBytes})` };
        }
        if (start.body.recordCount + acceptedRecords > limits.maxRecords) {
          return { name, ok: false, detail: `accepted past the records quota (${limits.maxRecords})` };
        }
      } else {
        const wrong = checkRefusal(reply, {
          usedBytes: start.body.bytesUsed + acceptedBytes,
          usedRecords: start.body.recordCount + acceptedRecords,
          bytes,
          records: batch,
          limits,
        });
        ctx.recorder.record("bulk-put-refused", sent, now(), wrong === undefined ? undefined : reply.code);
        if (wrong !== undefined) return { name, ok: false, detail: `unexpected refusal: ${wrong}` };
        refusals++;
        batch = batch === 1 ? 0 : Math.max(1, Math.floor(batch / 2));
      }
      await Bun.sleep(CHAIN_PAUSE_MS);
    }
    if (refusals === 0) return { name, ok: false, detail: "the quota was never reached" };
    const sentUsage = now();
    const end = await call(base, token, "GET", "/v1/usage");
    ctx.recorder.record("usage", sentUsage, now(), end.code);
    if (!isUsage(end.body)) return { name, ok: false, detail: `GET /v1/usage at the end: ${end.code}` };
    const want = {
      bytesUsed: start.body.bytesUsed + acceptedBytes,
      recordCount: start.body.recordCount + acceptedRecords,
    };
    const ok = end.body.bytesUsed === want.bytesUsed && end.body.recordCount === want.recordCount;
    return {
      name,
      ok,
      detail:
        `${acceptedRecords} records / ${acceptedBytes} bytes accepted, ${refusals} refusals, all QUOTA_EXCEEDED as expected; ` +
        `usage ${end.body.bytesUsed} bytes / ${end.body.recordCount} records, expected ${want.bytesUsed} / ${want.recordCount}`,
    };
  };

  checks.push(...(await Promise.all(installs.map(chain))));
  const skipped = checks.some((c) => c.detail.startsWith("skipped:"))
    ? "GET /v1/usage answers 404 on this server: quotas and usage are not there yet"
    : undefined;
  return { offeredOpsPerSec: undefined, measuredMs: now(), checks, opsByInstall, skipped };
}

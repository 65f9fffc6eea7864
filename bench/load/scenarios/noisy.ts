// noisy: the noisy-neighbour check of spec section 18. crud-mix runs over all installs but
// one twice: first alone (the baseline), then while the last install sends the most
// expensive requests the contract allows, as fast as its rate limit lets it: 64 KiB values
// against a hostile-but-accepted schema (ReDoS patterns, uniqueItems), bulk-puts of a full
// 8 MiB body, lists of 1,000 records of 64 KiB and bulk-gets of 1,000 keys. The others' p99
// with the noisy install must stay within 2× of the baseline's. The report's samples are
// those of the second run; the baseline's p99 is printed beside it in the checks.
import { mintToken } from "../../../src/tokens.ts";
import { call } from "../client.ts";
import { type Install, population } from "../data.ts";
import { Recorder } from "../recorder.ts";
import type { ScenarioContext, ScenarioResult } from "./context.ts";
import { CRUD_OPS, crudMix } from "./crud-mix.ts";

export const NOISY_OPS = {
  "noisy-hostile-put": "other",
  "noisy-bulk-put": "other",
  "noisy-list": "other",
  "noisy-bulk-get": "other",
} as const;

/** Accepted by the schema checks, yet as costly as they allow for a 64 KiB value. */
export const HOSTILE_SCHEMA = {
  anyOf: [
    { type: "string", pattern: "^(a|a)*$" },
    { type: "array", uniqueItems: true, items: { type: "object", propertyNames: { pattern: "^(\\w+\\s?)*$" } } },
  ],
};

const BIG_ITEMS = 120; // 120 values of ~64 KiB: a bulk-put body just under 8 MiB
const bigValue = (i: number) => `${i}`.padEnd(65_000, "x");
const hostileValues = [
  JSON.stringify({ value: `${"a".repeat(65_000)}!` }),
  JSON.stringify({ value: Array.from({ length: 3000 }, (_, i) => ({ [`word ${i}`]: i })) }),
];
const RATE_LIMIT_PER_SEC = 100;
const WORKERS = 4;

const p99 = (r: Recorder) => {
  const read = r.classHistogram("read");
  const write = r.classHistogram("write");
  return { read: read.percentile(99) / 1000, write: write.percentile(99) / 1000 };
};

async function noisyLoop(ctx: ScenarioContext, install: Install, untilMs: number, t0: number) {
  const token = await ctx.token(install);
  const base = ctx.target.url;
  const schemaToken = await mintToken(
    { ...install, scope: "storage:schema" },
    { secret: ctx.target.secret, audience: ctx.target.audience, ttlSeconds: 3600 },
  );
  const schema = await call(
    base,
    schemaToken,
    "PUT",
    "/v1/namespaces/hostile/schema",
    JSON.stringify({ jsonSchema: HOSTILE_SCHEMA }),
  );
  if (schema.code !== undefined) throw new Error(`noisy: the hostile schema was refused: ${schema.code}`);
  const bulkBody = JSON.stringify({
    items: Array.from({ length: BIG_ITEMS }, (_, i) => ({ key: `big${i}`, value: bigValue(i) })),
  });
  const put = await call(base, token, "POST", "/v1/namespaces/big/bulk-put", bulkBody, 60_000);
  if (put.code !== undefined) throw new Error(`noisy: seeding the big namespace: ${put.code}`);
  const bulkGetBody = JSON.stringify({ keys: Array.from({ length: 1000 }, (_, i) => `big${i}`) });
  const ops: Array<[string, () => Promise<string | undefined>]> = [
    [
      "noisy-hostile-put",
      async () => (await call(base, token, "PUT", "/v1/namespaces/hostile/records/h", hostileValues[0])).code,
    ],
    [
      "noisy-hostile-put",
      async () => (await call(base, token, "PUT", "/v1/namespaces/hostile/records/h", hostileValues[1])).code,
    ],
    ["noisy-list", async () => (await call(base, token, "GET", "/v1/namespaces/big/records?limit=1000")).code],
    ["noisy-bulk-get", async () => (await call(base, token, "POST", "/v1/namespaces/big/bulk-get", bulkGetBody)).code],
    [
      "noisy-bulk-put",
      async () => (await call(base, token, "POST", "/v1/namespaces/big/bulk-put", bulkBody, 60_000)).code,
    ],
  ];
  let sent = 0;
  const counts = { sent: 0, rateLimited: 0, refused: 0 };
  const worker = async (w: number) => {
    for (let i = w; performance.now() - t0 < untilMs && !ctx.shouldStop(); i += WORKERS) {
      // paced to the install's rate limit: request n is not sent before n / limit seconds
      const due = (sent++ / RATE_LIMIT_PER_SEC) * 1000;
      const wait = due - (performance.now() - t0);
      if (wait > 0) await Bun.sleep(wait);
      const [op, run] = ops[i % ops.length] as [string, () => Promise<string | undefined>];
      const started = performance.now() - t0;
      const code = await run();
      counts.sent++;
      if (code === "RATE_LIMITED") counts.rateLimited++;
      if (code === "SCHEMA_VIOLATION") counts.refused++;
      // a 422 for a hostile value and a 429 are the expected answers, not errors
      const error = code === "SCHEMA_VIOLATION" || code === "RATE_LIMITED" ? undefined : code;
      ctx.recorder.record(op, started, performance.now() - t0, error);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  return counts;
}

export async function noisy(ctx: ScenarioContext): Promise<ScenarioResult> {
  const o = ctx.options;
  const everyone = population(o.prefix, o.tenants, o.installsPerTenant).slice(0, o.installs);
  const noisyInstall = everyone.at(-1) as Install;
  const others = { ...o, installs: everyone.length - 1 };
  const baseline = new Recorder(ctx.recorder.warmupMs, (op) =>
    op in CRUD_OPS ? CRUD_OPS[op as keyof typeof CRUD_OPS] : "other",
  );
  const alone = await crudMix({ ...ctx, options: others, recorder: baseline });

  const t0 = performance.now();
  const [withNoisy, counts] = await Promise.all([
    crudMix({ ...ctx, options: others }),
    noisyLoop(ctx, noisyInstall, (o.warmupSec + o.durationSec) * 1000, t0),
  ]);
  const before = p99(baseline);
  const after = p99(ctx.recorder);
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
  const within = (a: number, b: number) => a <= 2 * Math.max(b, 1);
  return {
    offeredOpsPerSec: withNoisy.offeredOpsPerSec,
    measuredMs: withNoisy.measuredMs,
    opsByInstall: new Map([...withNoisy.opsByInstall, [noisyInstall.installId, counts.sent]]),
    checks: [
      ...alone.checks.map((c) => ({ ...c, name: `baseline: ${c.name}` })),
      ...withNoisy.checks,
      {
        name: "others' read p99 with the noisy install ≤ 2× without (target 2×)",
        ok: within(after.read, before.read),
        detail: `${after.read.toFixed(1)} ms vs ${before.read.toFixed(1)} ms alone: ${ratio(after.read, before.read)}×`,
      },
      {
        name: "others' write p99 with the noisy install ≤ 2× without (target 2×)",
        ok: within(after.write, before.write),
        detail: `${after.write.toFixed(1)} ms vs ${before.write.toFixed(1)} ms alone: ${ratio(after.write, before.write)}×`,
      },
      {
        name: "the noisy install's requests",
        ok: true,
        detail: `${counts.sent} sent, ${counts.refused} hostile values refused (422), ${counts.rateLimited} rate limited`,
      },
    ],
  };
}

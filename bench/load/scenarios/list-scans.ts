// list-scans: one namespace of scanRecords keys ("user/<u>/<item>", 100 items per user), walked
// page by page, whole or by prefix, with page sizes and values on or off. Every walk must
// return each expected key exactly once, in byte order; anything else is a WALK_MISMATCH.
// Walks arrive open loop at walkRatePerSec; each page is an operation ("list-page") and so
// is the whole walk ("walk", from its scheduled time to its last page).
import { call } from "../client.ts";
import { type Fixture, type Install, makeValue } from "../data.ts";
import { derive } from "../random.ts";
import { runOpenLoop, type Task } from "../schedule.ts";
import { type Check, noUnexpectedStatus, type ScenarioContext, type ScenarioResult } from "./context.ts";

export const SCAN_OPS = { "list-page": "read", walk: "other" } as const;
const NAMESPACE = "scans";
const PER_USER = 100;
const MAX_PAGES = 10_000;
/**
 * Pages per second at most, all walks together: the walks share one install, and the
 * contract limits an install to 100 requests/s (STORAGE_RATE_LIMIT, burst 200); a walk that
 * outran it would measure the limiter, not the list.
 */
export const PAGES_PER_SECOND = 80;

export function scanKeys(records: number): string[] {
  return Array.from({ length: records }, (_, i) => `user/${Math.floor(i / PER_USER)}/${i % PER_USER}`).sort((a, b) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
}

export async function listScans(ctx: ScenarioContext): Promise<ScenarioResult> {
  const o = ctx.options;
  const install: Install = {
    tenantId: `${o.prefix}-scan`,
    extensionId: `${o.prefix}-ext0`,
    installId: `${o.prefix}-scan-i0`,
    index: 0,
  };
  const token = await ctx.token(install);
  const base = ctx.target.url;
  const keys = scanKeys(o.scanRecords);
  const users = Math.ceil(o.scanRecords / PER_USER);
  const checks: Check[] = [];

  // a clean namespace, then the records in bulk-puts of 500 (values of 1–4 KiB: the walk, not the bytes, is measured)
  const cleared = await call(base, token, "DELETE", `/v1/namespaces/${NAMESPACE}`);
  if (cleared.code !== undefined) throw new Error(`clearing the scan namespace: ${cleared.code}`);
  const fixture = ctx.fixtures.find((f) => f.namespace === "state") ?? (ctx.fixtures[0] as Fixture);
  const scanFixture = { ...fixture, sizeKiB: [1, 4] as [number, number] };
  const rndValues = derive(o.seed, "list-scans/values");
  const values = Array.from({ length: 16 }, () =>
    JSON.stringify(makeValue(scanFixture, rndValues, rndValues.int(1024, 4096))),
  );
  for (let at = 0; at < keys.length; at += 500) {
    const items = keys
      .slice(at, at + 500)
      .map((key, j) => `{"key":${JSON.stringify(key)},"value":${values[(at + j) % values.length]}}`);
    const reply = await call(base, token, "POST", `/v1/namespaces/${NAMESPACE}/bulk-put`, `{"items":[${items}]}`);
    if (reply.code !== undefined) throw new Error(`seeding the scan namespace: ${reply.code}`);
  }

  const rnd = derive(o.seed, "list-scans");
  let nextSlot = 0;
  let walks = 0;
  let mismatches = 0;
  const firstMismatch: string[] = [];

  const walk = async (prefix: string, limit: number, withValues: boolean, due: number): Promise<string | undefined> => {
    const expected = keys.filter((k) => k.startsWith(prefix));
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = new URLSearchParams({ limit: String(limit), values: String(withValues) });
      if (prefix !== "") q.set("prefix", prefix);
      if (cursor !== null) q.set("cursor", cursor);
      // paced: wait for this page's slot (a shared schedule, one slot every 1/80 s)
      const slot = Math.max(performance.now(), nextSlot);
      nextSlot = slot + 1000 / PAGES_PER_SECOND;
      if (slot > performance.now()) await Bun.sleep(slot - performance.now());
      const t = performance.now() - t0;
      const reply = await call(base, token, "GET", `/v1/namespaces/${NAMESPACE}/records?${q}`);
      // a page is measured from when the walk sent it: its schedule is the walk's
      ctx.recorder.record("list-page", Math.max(t, due), performance.now() - t0, reply.code);
      if (reply.code !== undefined) return reply.code;
      const body = reply.body as { items: { key: string; value?: unknown }[]; cursor: string | null };
      for (const item of body.items) {
        seen.push(item.key);
        if (withValues !== (item.value !== undefined)) return "WALK_MISMATCH";
      }
      cursor = body.cursor;
      if (cursor === null) break;
    }
    walks++;
    const same = seen.length === expected.length && seen.every((k, i) => k === expected[i]);
    if (!same) {
      mismatches++;
      if (firstMismatch.length === 0) {
        firstMismatch.push(`prefix "${prefix}" limit ${limit}: got ${seen.length} keys, expected ${expected.length}`);
      }
      return "WALK_MISMATCH";
    }
    return undefined;
  };

  const t0 = performance.now();
  const next = (): Task => {
    const kind = rnd.next();
    // at most 100 pages a walk (5,000 keys at 50), so walks keep up with the page pacing
    const limit = rnd.pick([50, 100, 250, 1000]);
    const withValues = rnd.next() < 0.5;
    // whole namespace, one user ("user/7/"), or a digit that spans users ("user/1" → 1, 10–19, 100–199…)
    const prefix =
      kind < 0.2 ? "" : kind < 0.7 ? `user/${rnd.int(0, users - 1)}/` : `user/${rnd.int(1, Math.min(9, users - 1))}`;
    return { op: "walk", run: () => walk(prefix, limit, withValues, performance.now() - t0) };
  };
  const result = await runOpenLoop({
    ratePerSec: o.walkRatePerSec,
    durationMs: (o.warmupSec + o.durationSec) * 1000,
    maxInFlight: Math.max(1, Math.min(o.maxInFlight, 8)),
    next,
    done: (op, due, doneMs, code) => ctx.recorder.record(op, due, doneMs, code),
    clock: () => performance.now() - t0,
    shouldStop: ctx.shouldStop,
    graceMs: 30_000,
  });
  checks.push({
    name: "every walk returns each expected key exactly once, in byte order",
    ok: mismatches === 0 && walks > 0,
    detail: `${walks} walks, ${mismatches} mismatched${firstMismatch.length ? `; first: ${firstMismatch[0]}` : ""}`,
  });
  checks.push(noUnexpectedStatus(ctx.recorder));
  checks.push({
    name: "no walks dropped by the driver",
    ok: result.dropped === 0 && result.abandoned === 0,
    detail: `${result.dropped} dropped, ${result.abandoned} unfinished at the end`,
  });
  return {
    offeredOpsPerSec: o.walkRatePerSec,
    measuredMs: Math.max(0, result.elapsedMs - o.warmupSec * 1000),
    checks,
    opsByInstall: new Map([[install.installId, walks]]),
  };
}

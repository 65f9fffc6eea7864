// crud-mix: 70 % reads (get 60, list 5, bulk-get 5), 25 % writes (put), 5 % deletes, at a
// fixed rate per install, open loop. With --atomic-share F, that share of the operations is
// instead one /v1/atomic request: an increment of the namespace's counter and a merge patch
// into one of its keys, in one transaction (--atomic-ops N: N − 1 increments, of as many
// counters). The driver keeps a model of which keys are live, so
// every read asks for a key that exists and every delete for one that is there: a correct
// server answers all of it without a single error.
import { call, inBatches, recordPath } from "../client.ts";
import { type Fixture, type Install, keyOf, population, valueFor } from "../data.ts";
import { derive } from "../random.ts";
import { runOpenLoop, type Task } from "../schedule.ts";
import { noUnexpectedStatus, type ScenarioContext, type ScenarioResult } from "./context.ts";

export const CRUD_OPS = {
  get: "read",
  list: "read",
  "bulk-get": "read",
  put: "write",
  delete: "write",
  atomic: "write",
} as const;

/** The key of each namespace's counters, which atomic requests increment (the first one
 * "atomic-counter", the others numbered from 1). */
const counterKey = (j: number) => (j === 0 ? "atomic-counter" : `atomic-counter-${j}`);

/** Values per fixture, built once: a put sends one of them, so the driver does no JSON work in the loop. */
const POOL = 32;

type KeyState = { live: boolean; busy: number };

export function valuePool(seed: number, fixtures: Fixture[]) {
  const owner: Install = { tenantId: "pool", extensionId: "pool", installId: "pool", index: 0 };
  return new Map(
    fixtures.map((f) => [
      f.namespace,
      Array.from({ length: POOL }, (_, j) => JSON.stringify({ value: valueFor(seed, owner, f, j) })),
    ]),
  );
}

export async function seedInstalls(ctx: ScenarioContext, installs: Install[], pool: Map<string, string[]>) {
  const { keysPerNamespace } = ctx.options;
  const jobs = installs.flatMap((install) => ctx.fixtures.map((fixture) => ({ install, fixture })));
  await inBatches(jobs, 8, async ({ install, fixture }) => {
    const bodies = pool.get(fixture.namespace) as string[];
    const items = Array.from({ length: keysPerNamespace }, (_, n) => {
      const value = bodies[n % POOL] as string;
      // the pooled body is {"value":…}: splice the key in front of it
      return `{"key":${JSON.stringify(keyOf(fixture, n))},${value.slice(1, -1)}}`;
    });
    const reply = await call(
      ctx.target.url,
      await ctx.token(install),
      "POST",
      `/v1/namespaces/${fixture.namespace}/bulk-put`,
      `{"items":[${items.join(",")}]}`,
    );
    if (reply.code !== undefined) throw new Error(`seeding ${install.installId}/${fixture.namespace}: ${reply.code}`);
  });
}

export async function crudMix(ctx: ScenarioContext): Promise<ScenarioResult> {
  const o = ctx.options;
  const installs = population(o.prefix, o.tenants, o.installsPerTenant).slice(0, o.installs);
  const pool = valuePool(o.seed, ctx.fixtures);
  await seedInstalls(ctx, installs, pool);
  for (const install of installs) await ctx.token(install);

  const state = new Map(
    installs.map((install) => [
      install.installId,
      ctx.fixtures.map(() => Array.from({ length: o.keysPerNamespace }, (): KeyState => ({ live: true, busy: 0 }))),
    ]),
  );
  const rnd = derive(o.seed, "crud-mix");
  // the installs' turn order: a seeded Fisher–Yates shuffle (sort() with a random comparator
  // would depend on the engine's sort algorithm, and so would not be the same everywhere)
  const order = installs.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rnd.int(0, i);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const opsByInstall = new Map<string, number>();

  const liveKeys = (keys: KeyState[]) => keys.flatMap((k, n) => (k.live ? [n] : []));

  const next = (i: number): Task | undefined => {
    const install = installs[order[i % order.length] as number] as Install;
    const f = rnd.int(0, ctx.fixtures.length - 1);
    const fixture = ctx.fixtures[f] as Fixture;
    const keys = (state.get(install.installId) as KeyState[][])[f] as KeyState[];
    const ns = fixture.namespace;
    const roll = rnd.next();
    const live = liveKeys(keys);
    opsByInstall.set(install.installId, (opsByInstall.get(install.installId) ?? 0) + 1);
    const send = async (method: string, path: string, body?: string) =>
      (await call(ctx.target.url, await ctx.token(install), method, path, body)).code;

    // drawn only when asked for, so runs without atomic requests keep their sequence
    if (o.atomicShare > 0 && rnd.next() < o.atomicShare) {
      const writable = keys.flatMap((k, n) => (k.live || k.busy === 0 ? [n] : []));
      if (writable.length > 0) {
        const n = rnd.pick(writable);
        const k = keys[n] as KeyState;
        k.busy++;
        const body = JSON.stringify({
          ops: [
            ...Array.from({ length: o.atomicOps - 1 }, (_, j) => ({
              op: "increment",
              namespace: ns,
              key: counterKey(j),
              path: "/hits",
              by: 1,
            })),
            { op: "merge", namespace: ns, key: keyOf(fixture, n), patch: { touched: i } },
          ],
        });
        return {
          op: "atomic",
          run: async () => {
            const code = await send("POST", "/v1/atomic", body).finally(() => k.busy--);
            if (code === undefined) k.live = true;
            return code;
          },
        };
      }
    }

    if (roll < 0.7 && live.length > 0) {
      if (roll < 0.6) {
        const n = rnd.pick(live);
        const k = keys[n] as KeyState;
        k.busy++;
        return { op: "get", run: () => send("GET", recordPath(ns, keyOf(fixture, n))).finally(() => k.busy--) };
      }
      if (roll < 0.65) {
        return { op: "list", run: () => send("GET", `/v1/namespaces/${ns}/records?limit=20&values=false`) };
      }
      const picked = [...new Set(Array.from({ length: 5 }, () => rnd.pick(live)))];
      for (const n of picked) (keys[n] as KeyState).busy++;
      const body = JSON.stringify({ keys: picked.map((n) => keyOf(fixture, n)) });
      return {
        op: "bulk-get",
        run: () =>
          send("POST", `/v1/namespaces/${ns}/bulk-get`, body).finally(() => {
            for (const n of picked) (keys[n] as KeyState).busy--;
          }),
      };
    }
    if (roll >= 0.95) {
      const idle = live.filter((n) => (keys[n] as KeyState).busy === 0);
      if (idle.length > 0) {
        const n = rnd.pick(idle);
        const k = keys[n] as KeyState;
        k.live = false;
        k.busy++;
        return { op: "delete", run: () => send("DELETE", recordPath(ns, keyOf(fixture, n))).finally(() => k.busy--) };
      }
    }
    // a write (or what a read or delete becomes when no key suits it)
    const writable = keys.flatMap((k, n) => (k.live || k.busy === 0 ? [n] : []));
    if (writable.length === 0) return undefined;
    const n = rnd.pick(writable);
    const k = keys[n] as KeyState;
    const body = (pool.get(ns) as string[])[rnd.int(0, POOL - 1)] as string;
    k.busy++;
    return {
      op: "put",
      run: async () => {
        const code = await send("PUT", recordPath(ns, keyOf(fixture, n)), body).finally(() => k.busy--);
        if (code === undefined) k.live = true;
        return code;
      },
    };
  };

  const ratePerSec = (installs.length * o.ratePerInstallPerMin) / 60;
  const result = await runOpenLoop({
    ratePerSec,
    durationMs: (o.warmupSec + o.durationSec) * 1000,
    maxInFlight: o.maxInFlight,
    next,
    done: (op, due, doneMs, code, startedMs) => {
      ctx.recorder.record(op, due, doneMs, code);
      if (due >= ctx.recorder.warmupMs) ctx.recorder.startLag.recordMs(Math.max(0, startedMs - due));
    },
    shouldStop: ctx.shouldStop,
  });
  return {
    offeredOpsPerSec: ratePerSec,
    measuredMs: Math.max(0, Math.min(result.elapsedMs, (o.warmupSec + o.durationSec) * 1000) - o.warmupSec * 1000),
    checks: [
      {
        name: "no requests dropped by the driver",
        ok: result.dropped === 0 && result.abandoned === 0,
        detail: `${result.dropped} dropped, ${result.abandoned} unfinished at the end`,
      },
      noUnexpectedStatus(ctx.recorder),
    ],
    opsByInstall,
  };
}

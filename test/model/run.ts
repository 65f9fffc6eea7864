// Runs a command sequence against the real service (over HTTP) and the reference model,
// and fails at the first response that differs: status, error code and details, values,
// revisions (each write's above every earlier one), timestamps, pages, usage.
import { expect } from "bun:test";
import type { Command, DeleteItem, PutItem } from "./commands.ts";
import { type Json, type Model, type Quota, type Row, sizeOf } from "./reference.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Response = { status: number; headers: Headers; body: any };
type Call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;

/** The service side: the install's client and the admin client's limits and purge calls. */
export type Target = { call: Call; setLimits: (body: unknown) => Promise<Response>; purge: () => Promise<Response> };
export type Stats = { sequences: number; operations: number; ttlWaits: number };

// A TTL record is never touched closer than this to its expiry, so live or expired is
// certain for the model and the service alike (both use this machine's clock).
const MARGIN_MS = 400;
const rec = (ns: string, key: string) => `/v1/namespaces/${ns}/records/${encodeURIComponent(key)}`;

async function settle(model: Model, stats: Stats, all = false) {
  for (let i = 0; i < 20; i++) {
    const now = Date.now();
    const near = model.expiries().filter((e) => (all ? e + MARGIN_MS > now : Math.abs(now - e) < MARGIN_MS));
    if (near.length === 0) return;
    stats.ttlWaits++;
    await Bun.sleep(Math.max(...near) + MARGIN_MS - now + 1);
  }
}

function expectError(res: Response, status: number, code: string, details?: unknown) {
  expect({ status: res.status, code: res.body?.error?.code, details: res.body?.error?.details }).toEqual({
    status,
    code,
    details,
  });
}

const recordOf = (key: string, row: Row, values = true) => ({
  key,
  ...(values ? { value: row.value } : {}),
  revision: row.revision,
  expiresAt: row.expiresAtText,
  createdAt: row.createdAt ?? expect.any(String),
  updatedAt: row.updatedAt ?? expect.any(String),
});

type Resolved<T> = T & { revision: number | undefined };
const resolve = <T extends { key: string; cond: string }>(model: Model, ns: string, items: T[], now: number) =>
  items.map((i) => ({
    ...i,
    revision: i.cond === "match" || i.cond === "stale" ? model.revisionFor(ns, i.key, i.cond, now) : undefined,
  }));

/** Checks a write's answer for one item and records it in the model. */
function accept(
  model: Model,
  ns: string,
  item: PutItem,
  got: Record<string, unknown>,
  before: Row | undefined,
  now: number,
  floor: number,
) {
  const revision = got.revision as number;
  expect(Number.isSafeInteger(revision) && revision > floor).toBe(true);
  const expiresAtText = (got.expiresAt as string | null) ?? null;
  if (item.ttl) {
    expect(Math.abs(Date.parse(expiresAtText ?? "") - (now + 1000))).toBeLessThan(1500);
  } else {
    expect(expiresAtText).toBeNull();
  }
  if (before?.createdAt !== undefined && got.createdAt !== undefined) expect(got.createdAt).toBe(before.createdAt);
  const value = JSON.parse(JSON.stringify(item.value)) as Json;
  model.write(ns, item.key, {
    value,
    revision,
    size: sizeOf(item.key, value),
    expiresAt: expiresAtText === null ? null : Date.parse(expiresAtText),
    expiresAtText,
    createdAt: (got.createdAt as string | undefined) ?? before?.createdAt,
    updatedAt: got.updatedAt as string | undefined,
  });
}

let idemCounter = 0;

/** Sends a write once, or (idem) twice under one fresh Idempotency-Key: the second answer is
 * the first again (replayed when it was a 2xx), and the model applies it once. */
async function once(idem: boolean, send: (headers: Record<string, string>) => Promise<Response>): Promise<Response> {
  if (!idem) return send({});
  const headers = { "idempotency-key": `model-${process.pid}-${idemCounter++}` };
  const first = await send(headers);
  const again = await send(headers);
  expect([again.status, again.body]).toEqual([first.status, first.body]);
  expect(again.headers.get("idempotent-replayed")).toBe(first.status < 300 ? "true" : null);
  if (first.status < 300) expect(again.headers.get("etag")).toBe(first.headers.get("etag"));
  return first;
}

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v);

function merged(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: { [key: string]: Json } = isObject(target) ? { ...target } : {};
  for (const [name, member] of Object.entries(patch)) {
    if (member === null) delete out[name];
    else out[name] = merged(out[name] ?? null, member);
  }
  return out;
}

export async function step(t: Target, model: Model, cmd: Command, stats: Stats): Promise<void> {
  await settle(model, stats, cmd.op === "expire");
  stats.operations++;
  const now = Date.now();
  switch (cmd.op) {
    case "expire":
      return;
    case "put": {
      const item = resolve(model, cmd.ns, [cmd], now)[0] as Resolved<PutItem>;
      const live = model.live(cmd.ns, cmd.key, now);
      const headers: Record<string, string> =
        item.cond === "absent"
          ? { "if-none-match": "*" }
          : item.revision !== undefined
            ? { "if-match": `"${item.revision}"` }
            : {};
      const res = await t.call(
        "PUT",
        rec(cmd.ns, cmd.key),
        { value: cmd.value, ...(cmd.ttl ? { ttlSeconds: 1 } : {}) },
        headers,
      );
      if (!model.holds(cmd.ns, cmd.key, item.cond, item.revision, now)) {
        return expectError(res, 412, "REVISION_MISMATCH", { currentRevision: live?.revision ?? null });
      }
      const breach = model.quota(cmd.ns, [{ key: cmd.key, size: sizeOf(cmd.key, cmd.value) }], now);
      if (breach !== undefined) return expectError(res, 403, "QUOTA_EXCEEDED", breach);
      expect(res.status).toBe(live ? 200 : 201);
      expect(Object.keys(res.body).sort()).toEqual(["createdAt", "expiresAt", "key", "revision", "updatedAt"]);
      expect(res.headers.get("etag")).toBe(`"${res.body.revision}"`);
      return accept(model, cmd.ns, cmd, res.body, live, now, model.lastRevision);
    }
    case "get": {
      const live = model.live(cmd.ns, cmd.key, now);
      model.sweep(now, cmd.ns);
      const res = await t.call("GET", rec(cmd.ns, cmd.key));
      if (live === undefined) return expectError(res, 404, "NOT_FOUND");
      expect([res.status, res.body, res.headers.get("etag")]).toEqual([
        200,
        recordOf(cmd.key, live),
        `"${live.revision}"`,
      ]);
      live.createdAt = res.body.createdAt;
      live.updatedAt = res.body.updatedAt;
      return;
    }
    case "delete": {
      const item = resolve(model, cmd.ns, [cmd], now)[0] as Resolved<DeleteItem>;
      const live = model.live(cmd.ns, cmd.key, now);
      const res = await t.call(
        "DELETE",
        rec(cmd.ns, cmd.key),
        undefined,
        item.revision === undefined ? {} : { "if-match": `"${item.revision}"` },
      );
      if (item.revision !== undefined && live?.revision !== item.revision) {
        return expectError(res, 412, "REVISION_MISMATCH", { currentRevision: live?.revision ?? null });
      }
      if (live === undefined) return expectError(res, 404, "NOT_FOUND");
      expect(res.status).toBe(204);
      model.ns(cmd.ns).delete(cmd.key);
      return;
    }
    case "bulkPut": {
      const items = resolve(model, cmd.ns, cmd.items, now);
      const before = items.map((i) => model.live(cmd.ns, i.key, now));
      const res = await t.call("POST", `/v1/namespaces/${cmd.ns}/bulk-put`, {
        items: items.map((i) => ({
          key: i.key,
          value: i.value,
          ...(i.ttl ? { ttlSeconds: 1 } : {}),
          ...(i.cond === "absent" ? { ifAbsent: true } : {}),
          ...(i.revision === undefined ? {} : { ifRevision: i.revision }),
        })),
      });
      const failed = items.flatMap((i, index) =>
        model.holds(cmd.ns, i.key, i.cond, i.revision, now)
          ? []
          : [{ index, key: i.key, currentRevision: before[index]?.revision ?? null }],
      );
      if (failed.length > 0) return expectError(res, 412, "REVISION_MISMATCH", { failed });
      const breach: Quota | undefined = model.quota(
        cmd.ns,
        items.map((i) => ({ key: i.key, size: sizeOf(i.key, i.value) })),
        now,
      );
      if (breach !== undefined) return expectError(res, 403, "QUOTA_EXCEEDED", breach);
      expect(res.status).toBe(200);
      const got = res.body.items as Array<Record<string, unknown>>;
      expect(got.map((g) => [g.key, g.created])).toEqual(items.map((i, index) => [i.key, before[index] === undefined]));
      expect(new Set(got.map((g) => g.revision)).size).toBe(got.length);
      const floor = model.lastRevision;
      for (const [index, i] of items.entries()) {
        accept(model, cmd.ns, i, got[index] as Record<string, unknown>, before[index], now, floor);
      }
      return;
    }
    case "bulkGet": {
      const found = cmd.keys.flatMap((key) => {
        const row = model.live(cmd.ns, key, now);
        return row === undefined ? [] : [recordOf(key, row)];
      });
      const missing = cmd.keys.filter((key) => model.live(cmd.ns, key, now) === undefined);
      model.sweep(now, cmd.ns);
      const res = await t.call("POST", `/v1/namespaces/${cmd.ns}/bulk-get`, { keys: cmd.keys });
      expect([res.status, res.body]).toEqual([200, { items: found, missing, unprocessed: [] }]);
      return;
    }
    case "bulkDelete": {
      const items = resolve(model, cmd.ns, cmd.items, now);
      const body =
        cmd.form === "keys"
          ? { keys: items.map((i) => i.key) }
          : {
              items: items.map((i) => ({
                key: i.key,
                ...(i.revision === undefined ? {} : { ifRevision: i.revision }),
              })),
            };
      const res = await t.call("POST", `/v1/namespaces/${cmd.ns}/bulk-delete`, body);
      const failed =
        cmd.form === "keys"
          ? []
          : items.flatMap((i, index) => {
              const current = model.live(cmd.ns, i.key, now)?.revision ?? null;
              return i.revision === undefined || current === i.revision
                ? []
                : [{ index, key: i.key, currentRevision: current }];
            });
      if (failed.length > 0) return expectError(res, 412, "REVISION_MISMATCH", { failed });
      const deleted = items.filter((i) => model.live(cmd.ns, i.key, now) !== undefined).length;
      expect([res.status, res.body]).toEqual([200, { deleted }]);
      for (const i of items) model.ns(cmd.ns).delete(i.key);
      return;
    }
    case "list": {
      const expected = model.listed(cmd.ns, cmd.prefix, now);
      model.sweep(now, cmd.ns);
      let cursor: string | null = null;
      for (let page = 0; page < 20; page++) {
        const query = `prefix=${encodeURIComponent(cmd.prefix)}&limit=${cmd.limit}&values=${cmd.values}${cursor ? `&cursor=${cursor}` : ""}`;
        const res = await t.call("GET", `/v1/namespaces/${cmd.ns}/records?${query}`);
        const want = expected.slice(page * cmd.limit, (page + 1) * cmd.limit);
        const more = expected.length > (page + 1) * cmd.limit;
        expect([res.status, res.body.items, res.body.cursor !== null]).toEqual([
          200,
          want.map(([k, r]) => recordOf(k, r, cmd.values)),
          more,
        ]);
        cursor = res.body.cursor;
        if (!more) return;
      }
      throw new Error("list: more than 20 pages");
    }
    case "namespaces": {
      const res = await t.call("GET", "/v1/namespaces");
      expect([res.status, res.body]).toEqual([200, { namespaces: model.namespaces(now) }]);
      return;
    }
    case "deleteNamespace": {
      const deleted = model.listed(cmd.ns, "", now).length;
      const res = await t.call("DELETE", `/v1/namespaces/${cmd.ns}`);
      expect([res.status, res.body]).toEqual([200, { deleted }]);
      model.rows.delete(cmd.ns);
      return;
    }
    case "usage": {
      const res = await t.call("GET", "/v1/usage");
      const used = model.usage(now);
      const limits = { ...model.effectiveLimits(), maxValueBytes: model.defaults.maxValueBytes };
      expect([res.status, res.body]).toEqual([200, { bytesUsed: used.bytes, recordCount: used.records, limits }]);
      return;
    }
    case "limits": {
      const body = { maxBytes: cmd.maxBytes, maxRecords: cmd.maxRecords };
      const res = await t.setLimits(body);
      if (cmd.maxBytes !== undefined) model.limits.maxBytes = cmd.maxBytes;
      if (cmd.maxRecords !== undefined) model.limits.maxRecords = cmd.maxRecords;
      expect([res.status, res.body]).toEqual([200, model.effectiveLimits()]);
      return;
    }
    case "patch": {
      const item = resolve(model, cmd.ns, [cmd], now)[0] as Resolved<typeof cmd>;
      const live = model.live(cmd.ns, cmd.key, now);
      const floor = model.lastRevision;
      const res = await once(cmd.idem, (idem) =>
        t.call("PATCH", rec(cmd.ns, cmd.key), cmd.patch, {
          ...idem,
          ...(item.revision === undefined ? {} : { "if-match": `"${item.revision}"` }),
        }),
      );
      if (item.revision !== undefined && live?.revision !== item.revision) {
        return expectError(res, 412, "REVISION_MISMATCH", { currentRevision: live?.revision ?? null });
      }
      if (live === undefined) return expectError(res, 404, "NOT_FOUND");
      const value = JSON.parse(JSON.stringify(merged(live.value, cmd.patch))) as Json;
      const breach = model.quota(cmd.ns, [{ key: cmd.key, size: sizeOf(cmd.key, value) }], now);
      if (breach !== undefined) return expectError(res, 403, "QUOTA_EXCEEDED", breach);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        key: cmd.key,
        value,
        revision: expect.any(Number),
        expiresAt: live.expiresAtText,
        createdAt: live.createdAt ?? expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(res.body.revision).toBeGreaterThan(floor);
      expect(res.headers.get("etag")).toBe(`"${res.body.revision}"`);
      model.write(cmd.ns, cmd.key, {
        ...live,
        value,
        revision: res.body.revision,
        size: sizeOf(cmd.key, value),
        createdAt: res.body.createdAt,
        updatedAt: res.body.updatedAt,
      });
      return;
    }
    case "increment": {
      const live = model.live(cmd.ns, cmd.key, now);
      const floor = model.lastRevision;
      const res = await once(cmd.idem, (idem) =>
        t.call(
          "POST",
          "/v1/atomic",
          { ops: [{ op: "increment", namespace: cmd.ns, key: cmd.key, path: cmd.path, by: cmd.by }] },
          idem,
        ),
      );
      const current = live?.value;
      let value: Json;
      let conflict: string | undefined;
      if (cmd.path === "") {
        if (current === undefined) value = cmd.by;
        else if (typeof current === "number") value = current + cmd.by;
        else [value, conflict] = [null, "not_a_number"];
      } else if (current !== undefined && !isObject(current)) {
        [value, conflict] = [null, "not_an_object"];
      } else {
        const n = isObject(current) ? current.n : undefined;
        if (n !== undefined && typeof n !== "number") [value, conflict] = [null, "not_a_number"];
        else value = { ...(isObject(current) ? current : {}), n: (n ?? 0) + cmd.by };
      }
      if (conflict !== undefined) {
        expect([res.status, res.body.error.code, res.body.error.details.reason]).toEqual([
          409,
          "CONFLICT",
          "operation_conflict",
        ]);
        expect(res.body.error.details.failed).toEqual([
          expect.objectContaining({ in: "ops", index: 0, reason: conflict }),
        ]);
        return;
      }
      value = JSON.parse(JSON.stringify(value)) as Json;
      const breach = model.quota(cmd.ns, [{ key: cmd.key, size: sizeOf(cmd.key, value) }], now);
      if (breach !== undefined) return expectError(res, 403, "QUOTA_EXCEEDED", breach);
      expect(res.status).toBe(200);
      const [got] = res.body.items;
      expect(got).toEqual({
        namespace: cmd.ns,
        key: cmd.key,
        revision: expect.any(Number),
        created: live === undefined,
        deleted: false,
      });
      expect(got.revision).toBeGreaterThan(floor);
      model.write(cmd.ns, cmd.key, {
        value,
        revision: got.revision,
        size: sizeOf(cmd.key, value),
        expiresAt: live?.expiresAt ?? null,
        expiresAtText: live?.expiresAtText ?? null,
        createdAt: live?.createdAt,
        updatedAt: undefined,
      });
      return;
    }
    case "purge": {
      const res = await t.purge();
      expect(res.status).toBe(204);
      model.purge();
      return;
    }
  }
}

/** Runs a whole sequence on a fresh install; the failing command's index is in the message. */
export async function runSequence(target: Target, model: Model, commands: readonly Command[], stats: Stats) {
  stats.sequences++;
  for (const [index, cmd] of commands.entries()) {
    try {
      await step(target, model, cmd, stats);
    } catch (error) {
      throw new Error(`command ${index} ${JSON.stringify(cmd)}: ${(error as Error).message}`);
    }
  }
}

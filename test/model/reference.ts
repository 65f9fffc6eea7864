// An in-memory reference model of the contract (spec sections 4–7) for one install: what
// every request should answer, computed without a database. The model-based test runs the
// same command sequences against it and against the real service over HTTP.
//
// Rows are kept as the database keeps them, expired ones included until some request
// cleans them up (spec section 8), because that is what decides whether a write sweeps the
// install before its quota decision. Every answer the model gives is about live rows only.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Row = {
  value: Json;
  revision: number;
  size: number;
  /** Expiry in ms since the epoch (the database's clock, as the write response said), or null. */
  expiresAt: number | null;
  expiresAtText: string | null;
  /** unknown (undefined) after a bulk-put, whose response has no timestamps, until read */
  createdAt: string | undefined;
  updatedAt: string | undefined;
};

export type Limits = { maxBytes: number | null; maxRecords: number | null };
export type Defaults = { quotaBytes: number; quotaRecords: number; maxValueBytes: number };
export type Cond = "none" | "match" | "stale" | "absent";
export type Quota = { kind: "bytes" | "records"; limit: number; used: number; requested: number };

const utf8 = new TextEncoder();
export const sizeOf = (key: string, value: Json) => utf8.encode(key).length + utf8.encode(JSON.stringify(value)).length;
export const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class Model {
  /** namespace → key → stored row (live, or expired and not yet cleaned) */
  readonly rows = new Map<string, Map<string, Row>>();
  /** every revision a key was ever written with, to build stale preconditions */
  readonly history = new Map<string, number[]>();
  limits: Limits = { maxBytes: null, maxRecords: null };
  lastRevision = 0;

  constructor(readonly defaults: Defaults) {}

  ns(namespace: string): Map<string, Row> {
    const m = this.rows.get(namespace) ?? new Map<string, Row>();
    this.rows.set(namespace, m);
    return m;
  }

  static isLive(row: Row | undefined, now: number): row is Row {
    return row !== undefined && (row.expiresAt === null || row.expiresAt > now);
  }

  live(namespace: string, key: string, now: number): Row | undefined {
    const row = this.rows.get(namespace)?.get(key);
    return Model.isLive(row, now) ? row : undefined;
  }

  /** The revision a precondition names: the live one, a stale one, or (absent) an old or never-issued one. */
  revisionFor(namespace: string, key: string, cond: "match" | "stale", now: number): number {
    const current = this.live(namespace, key, now)?.revision;
    const past = (this.history.get(`${namespace}\u0000${key}`) ?? []).filter((r) => r !== current);
    if (cond === "match" && current !== undefined) return current;
    return past.at(-1) ?? this.lastRevision + 1000;
  }

  /** Does an item's precondition hold? */
  holds(namespace: string, key: string, cond: Cond, revision: number | undefined, now: number): boolean {
    const current = this.live(namespace, key, now)?.revision ?? null;
    if (cond === "absent") return current === null;
    if (cond === "match" || cond === "stale") return current === revision;
    return true;
  }

  effectiveLimits() {
    return {
      maxBytes: this.limits.maxBytes ?? this.defaults.quotaBytes,
      maxRecords: this.limits.maxRecords ?? this.defaults.quotaRecords,
    };
  }

  usage(now: number, liveOnly = true) {
    let bytes = 0;
    let records = 0;
    for (const m of this.rows.values()) {
      for (const row of m.values()) {
        if (liveOnly && !Model.isLive(row, now)) continue;
        bytes += row.size;
        records += 1;
      }
    }
    return { bytes, records };
  }

  /**
   * The quota decision for writing `items` in `namespace` (spec section 7): on live usage,
   * expired rows counting as absent; bytes first. Also applies the sweep the service does
   * when its stored counters (expired rows included) would cross a limit, so that the
   * model's stored rows stay what the database holds.
   */
  quota(namespace: string, items: ReadonlyArray<{ key: string; size: number }>, now: number): Quota | undefined {
    const limits = this.effectiveLimits();
    const delta = (liveOnly: boolean) => {
      let bytes = 0;
      let records = 0;
      for (const item of items) {
        const row = this.rows.get(namespace)?.get(item.key);
        const counted = liveOnly ? (Model.isLive(row, now) ? row : undefined) : row;
        bytes += item.size - (counted?.size ?? 0);
        if (counted === undefined) records += 1;
      }
      return { bytes, records };
    };
    const crosses = (used: { bytes: number; records: number }, d: { bytes: number; records: number }) =>
      (d.bytes > 0 && used.bytes + d.bytes > limits.maxBytes) ||
      (d.records > 0 && used.records + d.records > limits.maxRecords);
    const used = this.usage(now);
    const d = delta(true);
    let breach: Quota | undefined;
    if (d.bytes > 0 && used.bytes + d.bytes > limits.maxBytes) {
      breach = { kind: "bytes", limit: limits.maxBytes, used: used.bytes, requested: d.bytes };
    } else if (d.records > 0 && used.records + d.records > limits.maxRecords) {
      breach = { kind: "records", limit: limits.maxRecords, used: used.records, requested: d.records };
    }
    // the service sweeps the install when its stored figures would cross; kept only on success
    if (breach === undefined && crosses(this.usage(now, false), delta(false))) this.sweep(now);
    return breach;
  }

  /** Deletes every expired row of the install (or of one namespace). */
  sweep(now: number, namespace?: string) {
    for (const [ns, m] of this.rows) {
      if (namespace !== undefined && ns !== namespace) continue;
      for (const [key, row] of m) if (!Model.isLive(row, now)) m.delete(key);
    }
  }

  write(namespace: string, key: string, row: Row) {
    this.ns(namespace).set(key, row);
    const h = `${namespace}\u0000${key}`;
    this.history.set(h, [...(this.history.get(h) ?? []), row.revision]);
    this.lastRevision = Math.max(this.lastRevision, row.revision);
  }

  /** The admin purge: every row and limit override goes; revisions (and their history, for
   * stale preconditions) go on from where they were. */
  purge() {
    this.rows.clear();
    this.limits = { maxBytes: null, maxRecords: null };
  }

  /** Live records of a namespace under a prefix, in key byte order. */
  listed(namespace: string, prefix: string, now: number): Array<[string, Row]> {
    return [...(this.rows.get(namespace) ?? new Map<string, Row>())]
      .filter(([key, row]) => key.startsWith(prefix) && Model.isLive(row, now))
      .sort(([a], [b]) => byteOrder(a, b));
  }

  namespaces(now: number) {
    return [...this.rows.keys()]
      .sort(byteOrder)
      .map((namespace) => {
        const live = [...(this.rows.get(namespace)?.values() ?? [])].filter((r) => Model.isLive(r, now));
        return { namespace, recordCount: live.length, bytesUsed: live.reduce((s, r) => s + r.size, 0) };
      })
      .filter((n) => n.recordCount > 0);
  }

  /** The latest expiry of any stored row, or undefined. */
  expiries(): number[] {
    return [...this.rows.values()].flatMap((m) =>
      [...m.values()].flatMap((r) => (r.expiresAt === null ? [] : [r.expiresAt])),
    );
  }
}

// The commands of the model-based test, as plain data (so a shrunk counterexample can be
// pasted into a regression test), and their fast-check arbitraries.
import fc from "fast-check";
import type { Cond, Json } from "./reference.ts";

export type PutItem = { key: string; value: Json; cond: Cond; ttl: boolean };
export type DeleteItem = { key: string; cond: "none" | "match" | "stale" };

export type Command =
  | ({ op: "put"; ns: string } & PutItem)
  | { op: "get"; ns: string; key: string }
  | ({ op: "delete"; ns: string } & DeleteItem)
  | { op: "bulkPut"; ns: string; items: PutItem[] }
  | { op: "bulkGet"; ns: string; keys: string[] }
  | { op: "bulkDelete"; ns: string; form: "keys" | "items"; items: DeleteItem[] }
  | { op: "list"; ns: string; prefix: string; limit: number; values: boolean }
  | { op: "namespaces" }
  | { op: "deleteNamespace"; ns: string }
  | { op: "usage" }
  | { op: "limits"; maxBytes?: number | null; maxRecords?: number | null }
  /** the admin purge (uninstall): the install is empty again, its counters go on */
  | { op: "purge" }
  /** a JSON Merge Patch of one record; with idem, sent twice under one Idempotency-Key */
  | { op: "patch"; ns: string; key: string; patch: Json; cond: "none" | "match" | "stale"; idem: boolean }
  /** an atomic increment at "" or "/n"; with idem, sent twice under one Idempotency-Key */
  | { op: "increment"; ns: string; key: string; path: "" | "/n"; by: number; idem: boolean }
  /** waits until every record written with a TTL has expired (at most ~1.5 s) */
  | { op: "expire" };

// few namespaces and keys, so commands collide; keys that need escaping in a URL
export const NAMESPACES = ["n1", "n2"];
export const KEYS = ["a", "ab", "b", "a/b", "k%", "k 1", "ü", "_x"];
const PREFIXES = ["", "a", "k", "ü", "_"];

const ns = fc.constantFrom(...NAMESPACES);
const key = fc.constantFrom(...KEYS);

const scalar: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("ü€😀", "line\nbreak", '"quoted"', "\\"),
);
export const value: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 3 }) },
);

const putCond = fc.constantFrom<Cond>("none", "none", "match", "stale", "absent");
const deleteCond = fc.constantFrom<"none" | "match" | "stale">("none", "none", "match", "stale");
// a TTL write now and then: each one can cost a wait of about a second later on
const ttl = fc.integer({ min: 0, max: 7 }).map((n) => n === 0);

const putItem = fc.record({ key, value, cond: putCond, ttl });
const deleteItem = fc.record({ key, cond: deleteCond });
const uniqueBy = <T extends { key: string }>(arb: fc.Arbitrary<T>, maxLength: number) =>
  fc.uniqueArray(arb, { minLength: 1, maxLength, selector: (i) => i.key });
const limitValue = <T>(values: T[]) => fc.option(fc.constantFrom<T | null>(null, ...values), { nil: undefined });

export const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant("put" as const), ns }).chain((c) => putItem.map((i) => ({ ...c, ...i }))),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("get" as const), ns, key }) },
  {
    weight: 3,
    arbitrary: fc
      .record({ op: fc.constant("delete" as const), ns })
      .chain((c) => deleteItem.map((i) => ({ ...c, ...i }))),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("bulkPut" as const), ns, items: uniqueBy(putItem, 4) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("bulkGet" as const),
      ns,
      keys: fc.uniqueArray(key, { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("bulkDelete" as const),
      ns,
      form: fc.constantFrom<"keys" | "items">("keys", "items"),
      items: uniqueBy(deleteItem, 3),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("list" as const),
      ns,
      prefix: fc.constantFrom(...PREFIXES),
      limit: fc.integer({ min: 1, max: 4 }),
      values: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "namespaces" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("deleteNamespace" as const), ns }) },
  { weight: 2, arbitrary: fc.constant({ op: "usage" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("limits" as const),
      maxBytes: limitValue([0, 40, 80, 160, 400]),
      maxRecords: limitValue([0, 1, 2, 3, 5]),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("patch" as const),
      ns,
      key,
      patch: fc.oneof(
        {
          weight: 3,
          arbitrary: fc.dictionary(fc.constantFrom("n", "x", "y"), fc.option(scalar, { nil: null }), { maxKeys: 2 }),
        },
        { weight: 1, arbitrary: scalar },
      ),
      cond: fc.constantFrom<"none" | "match" | "stale">("none", "none", "match", "stale"),
      idem: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("increment" as const),
      ns,
      key,
      path: fc.constantFrom<"" | "/n">("", "/n"),
      by: fc.integer({ min: -3, max: 3 }),
      idem: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "expire" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "purge" as const }) },
);

export const sequence = (maxLength: number) => fc.array(command, { minLength: 1, maxLength, size: "max" });

// The items of a write or a bulk request, checked before any database work: every failing
// item is named, not only the first (spec section 5, "the error names every failing item by
// index"). No I/O here: unit-tested without a database.
import { AppError, type ErrorCode, fail } from "../errors.ts";
import { MS_PER_TURN, nextTurn } from "../turns.ts";
import { checkKey } from "./keys.ts";
import type { PutOp } from "./plan.ts";
import { type ExpiryInput, expiryParams } from "./record.ts";
import { type PreparedValue, prepareValue } from "./values.ts";

/** One failing item of a bulk request: its index, its key when it has one, and why. */
export type ItemFault = { index: number; key?: string; code: ErrorCode; message: string };

/** The 400 of a bulk request: every failing item in `details.failed`, by index. The code is
 * INVALID_KEY when every fault is an invalid key, else INVALID_REQUEST. */
export function invalidItems(faults: readonly ItemFault[]): AppError {
  const failed = [...faults].sort((a, b) => a.index - b.index);
  const code = failed.every((f) => f.code === "INVALID_KEY") ? "INVALID_KEY" : "INVALID_REQUEST";
  return fail(code, `${summary(failed)}; nothing was done`, { failed });
}

/** "item 3: why" for the first failing item, and how many more there are. */
export function summary(failed: readonly { index: number; message: string }[]): string {
  const [first] = failed;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more failing item(s), see details.failed)` : "";
  return first === undefined ? "no item failed" : `item ${first.index}: ${first.message}${more}`;
}

const keyField = (key: unknown) => (typeof key === "string" ? { key } : {});

/**
 * Runs `check` on every item (but those in `skip`, already named for another reason) and
 * turns each item's first 400 into its fault. Anything else is not the item's fault and is
 * thrown on.
 */
export function collectFaults<T, R>(
  items: readonly T[],
  keyOf: (item: T) => unknown,
  check: (item: T, index: number) => R,
  skip: ReadonlySet<number> = new Set(),
): { results: R[]; faults: ItemFault[] } {
  const collected = { results: [] as R[], faults: [] as ItemFault[] };
  items.forEach((item, index) => {
    if (!skip.has(index)) checkOne(collected, item, index, keyOf, check);
  });
  return collected;
}

/** collectFaults in turns of the event loop: a pause after about MS_PER_TURN of checks
 * (a bulk-put's 500 values of 64 KiB are tens of milliseconds to serialize and size). */
export async function collectFaultsInTurns<T, R>(
  items: readonly T[],
  keyOf: (item: T) => unknown,
  check: (item: T, index: number) => R,
): Promise<{ results: R[]; faults: ItemFault[] }> {
  const collected = { results: [] as R[], faults: [] as ItemFault[] };
  let turn = performance.now();
  for (const [index, item] of items.entries()) {
    if (performance.now() - turn > MS_PER_TURN) {
      await nextTurn();
      turn = performance.now();
    }
    checkOne(collected, item, index, keyOf, check);
  }
  return collected;
}

/** One item's check: its result, or its first 400 as its fault; anything else is thrown on. */
function checkOne<T, R>(
  into: { results: R[]; faults: ItemFault[] },
  item: T,
  index: number,
  keyOf: (item: T) => unknown,
  check: (item: T, index: number) => R,
): void {
  try {
    into.results[index] = check(item, index);
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 400) throw error;
    into.faults.push({ index, ...keyField(keyOf(item)), code: error.code, message: error.message });
  }
}

/** A check of the keys of a bulk request: an invalid one is INVALID_KEY, a repeat names the
 * item it repeats. Repeats are found over every key given, whichever items are checked. */
function keyChecker(keys: readonly unknown[]): (key: unknown, index: number) => string {
  const first = new Map<string, number>();
  const repeats = new Map<number, number>();
  keys.forEach((key, index) => {
    if (typeof key !== "string") return;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, index);
    else repeats.set(index, earlier);
  });
  return (key, index) => {
    const k = checkKey(key);
    const earlier = repeats.get(index);
    if (earlier !== undefined) throw fail("INVALID_REQUEST", `duplicate key: item ${earlier} has the same key`);
    return k;
  };
}

/** The faults of the keys of bulk-get and bulk-delete. */
export function keyFaults(keys: readonly unknown[], skip?: ReadonlySet<number>): ItemFault[] {
  return collectFaults(keys, (k) => k, keyChecker(keys), skip).faults;
}

/** The keys of bulk-get and bulk-delete, or a 400 naming every invalid or repeated one. */
export function checkBulkKeys(keys: readonly unknown[]): string[] {
  const { results, faults } = collectFaults(keys, (k) => k, keyChecker(keys));
  if (faults.length > 0) throw invalidItems(faults);
  return results;
}

const itemKey = (item: { key?: unknown } | null) => item?.key;

export type WriteItem = ExpiryInput & { key: string; value: unknown; ifRevision?: number; ifAbsent?: boolean };

/** A write item checked and serialized: what the write's decisions and statements need. */
export type Prepared = { item: WriteItem; value: PreparedValue; ttl: number | null; expiresAt: string | null };

function writeChecker(items: readonly WriteItem[], bulk: boolean, now: number) {
  const key = bulk ? keyChecker(items.map(itemKey)) : (k: unknown) => k as string;
  return (item: WriteItem, index: number): Prepared => {
    key(item.key, index);
    if (item.ifRevision !== undefined && item.ifAbsent === true) {
      throw fail("INVALID_REQUEST", "give ifRevision or ifAbsent, not both");
    }
    // the size limit is decided later, for every item at once and with the namespace's limit
    const value = prepareValue(item.key, item.value, Number.POSITIVE_INFINITY, "value");
    const [ttl, expiresAt] = expiryParams(item, now);
    return { item, value, ttl, expiresAt };
  };
}

/** The faults of bulk-put items (keys, repeats, values, expiry, preconditions). */
export function writeItemFaults(items: readonly WriteItem[], skip?: ReadonlySet<number>, now = Date.now()) {
  return collectFaults(items, itemKey, writeChecker(items, true, now), skip).faults;
}

/**
 * Checks and serializes the items of a PUT (one item, its key already checked from the
 * path) or a bulk-put. A PUT's fault is thrown as it is; a bulk-put's are all named.
 */
export function prepareWriteItems(items: readonly WriteItem[], bulk: boolean, now = Date.now()): Prepared[] {
  return preparedOrRefused(collectFaults(items, itemKey, writeChecker(items, bulk, now)), bulk);
}

/** prepareWriteItems of a bulk-put, in turns of the event loop. */
export async function prepareBulkItemsInTurns(items: readonly WriteItem[], now = Date.now()): Promise<Prepared[]> {
  return preparedOrRefused(await collectFaultsInTurns(items, itemKey, writeChecker(items, true, now)), true);
}

function preparedOrRefused({ results, faults }: { results: Prepared[]; faults: ItemFault[] }, bulk: boolean) {
  if (faults.length === 0) return results;
  if (!bulk) throw fail(faults[0]?.code ?? "INVALID_REQUEST", faults[0]?.message ?? "invalid write");
  throw invalidItems(faults);
}

/** Checked write items as put ops of the write pipeline, in one namespace. */
export const putOps = (namespace: string, prepared: readonly Prepared[]): PutOp[] =>
  prepared.map((p) => ({
    op: "put",
    namespace,
    key: p.item.key,
    parsed: p.item.value,
    value: p.value,
    ttl: p.ttl,
    expiresAt: p.expiresAt,
    ifRevision: p.item.ifRevision,
    ifAbsent: p.item.ifAbsent,
  }));

type TooLarge = { index: number; key: string; limit: number; size: number };

const tooLargeMessage = (f: TooLarge) => `the value is ${f.size} bytes, over the limit of ${f.limit}`;

/** The 413 of a PUT: `{key, limit, size}` of its value. */
export function tooLargeOfOne(failed: readonly TooLarge[]): AppError {
  const { key, limit, size } = failed[0] ?? { index: 0, key: "", limit: 0, size: 0 };
  return fail("VALUE_TOO_LARGE", tooLargeMessage({ index: 0, key, limit, size }), { key, limit, size });
}

/** The 413 of a bulk-put: every item over its limit in `details.failed`. */
export function tooLargeOfMany(failed: readonly TooLarge[]): AppError {
  const named = failed.map((f) => ({ ...f, message: tooLargeMessage(f) }));
  return fail("VALUE_TOO_LARGE", `${summary(named)}; nothing was written`, { failed: named });
}

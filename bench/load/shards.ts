// Hot shards: where the load and the rows would land on a Citus cluster. Citus places a row
// of a hash-distributed table by hashing its distribution column with the type's hash
// function (for text, PostgreSQL's hashtext) and splits the int32 range into equal
// consecutive ranges, one per shard (32 by default). hashtext is PostgreSQL's hash_bytes
// (Bob Jenkins' lookup3) over the UTF-8 bytes; it is reproduced here so the distribution can
// be computed without a database, and a test compares it with the database's own hashtext.

const rot = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** PostgreSQL's hashtext(text) as a signed int32 (little-endian build, as on x86-64 and arm64). */
export function hashtext(text: string): number {
  const k = new TextEncoder().encode(text);
  let len = k.length;
  let a = (0x9e3779b9 + len + 3923095) >>> 0;
  let b = a;
  let c = a;
  const mix = () => {
    a = (a - c) >>> 0;
    a = (a ^ rot(c, 4)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rot(a, 6)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rot(b, 8)) >>> 0;
    b = (b + a) >>> 0;
    a = (a - c) >>> 0;
    a = (a ^ rot(c, 16)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rot(a, 19)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rot(b, 4)) >>> 0;
    b = (b + a) >>> 0;
  };
  const final = () => {
    c = (c ^ b) >>> 0;
    c = (c - rot(b, 14)) >>> 0;
    a = (a ^ c) >>> 0;
    a = (a - rot(c, 11)) >>> 0;
    b = (b ^ a) >>> 0;
    b = (b - rot(a, 25)) >>> 0;
    c = (c ^ b) >>> 0;
    c = (c - rot(b, 16)) >>> 0;
    a = (a ^ c) >>> 0;
    a = (a - rot(c, 4)) >>> 0;
    b = (b ^ a) >>> 0;
    b = (b - rot(a, 14)) >>> 0;
    c = (c ^ b) >>> 0;
    c = (c - rot(b, 24)) >>> 0;
  };
  const word = (i: number) =>
    ((k[i] as number) | ((k[i + 1] as number) << 8) | ((k[i + 2] as number) << 16) | ((k[i + 3] as number) << 24)) >>>
    0;
  let i = 0;
  while (len >= 12) {
    a = (a + word(i)) >>> 0;
    b = (b + word(i + 4)) >>> 0;
    c = (c + word(i + 8)) >>> 0;
    mix();
    i += 12;
    len -= 12;
  }
  const byte = (j: number, shift: number) => (((k[i + j] as number) << shift) >>> 0) as number;
  // the last 0–11 bytes; the lowest byte of c is left for the length, as in PostgreSQL
  if (len >= 11) c = (c + byte(10, 24)) >>> 0;
  if (len >= 10) c = (c + byte(9, 16)) >>> 0;
  if (len >= 9) c = (c + byte(8, 8)) >>> 0;
  if (len >= 8) b = (b + byte(7, 24)) >>> 0;
  if (len >= 7) b = (b + byte(6, 16)) >>> 0;
  if (len >= 6) b = (b + byte(5, 8)) >>> 0;
  if (len >= 5) b = (b + byte(4, 0)) >>> 0;
  if (len >= 4) a = (a + byte(3, 24)) >>> 0;
  if (len >= 3) a = (a + byte(2, 16)) >>> 0;
  if (len >= 2) a = (a + byte(1, 8)) >>> 0;
  if (len >= 1) a = (a + byte(0, 0)) >>> 0;
  final();
  return c | 0;
}

export const SHARDS = 32;

/** The shard (0-based) Citus gives a hash value when the int32 range is cut into `shards` equal ranges. */
export function shardOfHash(hash: number, shards = SHARDS): number {
  const width = 2 ** 32 / shards;
  return Math.min(shards - 1, Math.floor((hash + 2 ** 31) / width));
}

export const shardOf = (installId: string, shards = SHARDS) => shardOfHash(hashtext(installId), shards);

export type Spread = { perShard: number[]; total: number; mean: number; max: number; maxMeanRatio: number };

/** Where install ids land: computed (hashtext) or read from a Citus cluster's catalog. */
export type Placement = { count: number; method: string; of: (installId: string) => number };

export const HASHTEXT_PLACEMENT: Placement = {
  count: SHARDS,
  method: "hashtext(install_id) over 32 equal int32 ranges, as Citus places a text distribution column",
  of: (installId) => shardOf(installId),
};

/** Counts per install folded onto shards, with the hottest shard's share against the mean. */
export function spread(perInstall: Iterable<[string, number]>, placement: Placement = HASHTEXT_PLACEMENT): Spread {
  const shards = placement.count;
  const perShard = new Array<number>(shards).fill(0);
  for (const [installId, n] of perInstall) {
    const s = placement.of(installId);
    perShard[s] = (perShard[s] ?? 0) + n;
  }
  const total = perShard.reduce((s, n) => s + n, 0);
  const mean = total / shards;
  const max = Math.max(...perShard);
  return { perShard, total, mean, max, maxMeanRatio: mean === 0 ? 0 : max / mean };
}

// A map that holds at most `max` entries and, when full, forgets the least recently used one:
// the caches of the request path (verified tokens, compiled namespace validators, rate-limit
// buckets) each hold what a busy instance sees, without growing with every install or token
// ever seen. A Map keeps insertion order, so re-inserting an entry on use keeps the least
// recently used first: both operations are O(1).
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, not ${max}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry's value, which becomes the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** Sets the entry, the most recently used; when full, the least recently used goes. */
  set(key: K, value: V): this {
    this.#entries.delete(key);
    if (this.#entries.size >= this.max) this.#entries.delete(this.#entries.keys().next().value as K);
    this.#entries.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }
}

// POST /v1/atomic (spec section 14): checks and operations over any keys of the install,
// applied in one transaction, all or nothing.
import type * as C from "./contract.ts";
import { expiry } from "./dates.ts";
import type { Transport, WriteOptions } from "./transport.ts";
import type { AtomicResult, Expiry } from "./types.ts";

/** Checks and operations, built up and committed together: `client.atomic().check(…).set(…).commit()`. */
export class AtomicBatch {
  readonly #t: Transport;
  readonly #checks: C.AtomicCheck[] = [];
  readonly #ops: C.AtomicOp[] = [];

  constructor(t: Transport) {
    this.#t = t;
  }

  /** The commit fails unless the key is live at `revision` (null: unless it is absent). */
  check(namespace: string, key: string, revision: number | null): this {
    this.#checks.push({ namespace, key, revision });
    return this;
  }

  /** Writes the value (with an optional TTL). */
  set(namespace: string, key: string, value: unknown, options: Expiry = {}): this {
    this.#ops.push({ op: "set", namespace, key, value, ...expiry(options) });
    return this;
  }

  /** Deletes the key; an absent key is not an error. */
  delete(namespace: string, key: string): this {
    this.#ops.push({ op: "delete", namespace, key });
    return this;
  }

  /**
   * Adds `by` to the number at the JSON Pointer `path` of the value (default: the whole
   * value), creating the record or the path; concurrent increments never lose an update.
   */
  increment(namespace: string, key: string, by = 1, options: { path?: string } = {}): this {
    this.#ops.push({ op: "increment", namespace, key, by, ...options });
    return this;
  }

  /** Applies a JSON Merge Patch to the value (to null when absent, creating the record). */
  merge(namespace: string, key: string, patch: C.MergePatch): this {
    this.#ops.push({ op: "merge", namespace, key, patch });
    return this;
  }

  /**
   * Applies every operation, or none: a failed check is a `REVISION_MISMATCH` error, an
   * operation that cannot apply a `CONFLICT`, each naming the failing entries by index.
   * Returns one result per operation, in order.
   */
  async commit(options?: WriteOptions): Promise<AtomicResult[]> {
    const body: C.AtomicBody = { checks: this.#checks, ops: this.#ops };
    const answer = await this.#t.send({ method: "POST", path: "/v1/atomic", body, write: true, options });
    return (answer.body as C.AtomicResponse).items;
  }
}

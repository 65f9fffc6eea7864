// One namespace of the install: its records (spec section 5), PATCH (13), its schema and its
// slice of the change feed (16).
import type * as C from "./contract.ts";
import { dated, expiry } from "./dates.ts";
import { StorageError } from "./errors.ts";
import { changes, watch } from "./feed.ts";
import { type CallOptions, enc, type Transport, type WriteOptions } from "./transport.ts";
import type {
  BulkDeleteItem,
  BulkGetResult,
  BulkPutItem,
  BulkPutResult,
  ChangesOptions,
  ChangesPage,
  KeyInfo,
  ListOptions,
  PutOptions,
  Schema,
  SchemaBody,
  StoredRecord,
  WatchEvent,
  WatchOptions,
  WriteResult,
} from "./types.ts";

/** A list's pages, and its records across every page (`for await (const r of ns.list())`). */
export type Listing<T> = AsyncIterable<T> & {
  /** each page as the service returns it, with the cursor that goes on after it */
  pages(): AsyncIterable<{ items: T[]; cursor: string | null }>;
};

const absentAsNull = (error: unknown) => {
  if (error instanceof StorageError && error.code === "NOT_FOUND") return null;
  throw error;
};

const conditions = (o: { ifRevision?: number; ifAbsent?: boolean }) => {
  const headers: Record<string, string> = {};
  if (o.ifRevision !== undefined) headers["if-match"] = `"${o.ifRevision}"`;
  if (o.ifAbsent) headers["if-none-match"] = "*";
  return headers;
};

/** The schema of a namespace (token scope `storage:schema`). */
export type NamespaceSchema = {
  /** the schema with its version, or null when the namespace has none */
  get(options?: CallOptions): Promise<Schema | null>;
  /** sets (or replaces) the schema; `created` says which */
  put(body: SchemaBody, options?: WriteOptions): Promise<Schema & { created: boolean }>;
  /** removes the schema; false when there was none */
  delete(options?: WriteOptions): Promise<boolean>;
};

/** Records of one namespace; `V` is the type the caller gives its values (not checked). */
export class Namespace<V = unknown> {
  readonly #t: Transport;
  readonly #path: string;
  /** The namespace's JSON Schema, default TTL and value size limit. */
  readonly schema: NamespaceSchema;

  constructor(
    t: Transport,
    /** the namespace's name */
    readonly name: string,
  ) {
    this.#t = t;
    this.#path = `/v1/namespaces/${enc(name)}`;
    const path = `${this.#path}/schema`;
    this.schema = {
      get: (options) => t.send({ method: "GET", path, options }).then(({ body }) => body as Schema, absentAsNull),
      put: (body, options) =>
        t
          .send({ method: "PUT", path, body, write: true, options })
          .then(({ status, body }) => ({ ...(body as Schema), created: status === 201 })),
      delete: (options) =>
        t
          .send({ method: "DELETE", path, write: true, options })
          .then(() => true, absentAsNull)
          .then(Boolean),
    };
  }

  #record(key: string) {
    return `${this.#path}/records/${enc(key)}`;
  }

  /** The live record, or null when it is absent or expired. */
  async get(key: string, options?: CallOptions): Promise<StoredRecord<V> | null> {
    return this.#t
      .send({ method: "GET", path: this.#record(key), options })
      .then(({ body }) => dated(body as C.Record) as StoredRecord<V>, absentAsNull);
  }

  /**
   * Creates or replaces the record. `ifRevision` writes only over that revision and
   * `ifAbsent` only when there is none (else a `REVISION_MISMATCH` error, `details.currentRevision`);
   * `ttlSeconds` or `expiresAt` set an expiry (neither: the namespace's default TTL, if any).
   */
  async put(key: string, value: V, options: PutOptions = {}): Promise<WriteResult> {
    const { status, body } = await this.#t.send({
      method: "PUT",
      path: this.#record(key),
      body: { value, ...expiry(options) },
      headers: conditions(options),
      write: true,
      options,
    });
    return { ...dated(body as C.WriteResponse), created: status === 201 };
  }

  /**
   * Applies a JSON Merge Patch (RFC 7396) to the live value (`null` removes a member) and
   * returns the whole record; the expiry is kept. An absent record is a `NOT_FOUND` error.
   */
  async patch(
    key: string,
    patch: C.MergePatch,
    options: WriteOptions & { ifRevision?: number } = {},
  ): Promise<StoredRecord<V>> {
    const { body } = await this.#t.send({
      method: "PATCH",
      path: this.#record(key),
      body: patch,
      contentType: "application/merge-patch+json",
      headers: conditions(options),
      write: true,
      options,
    });
    return dated(body as C.Record) as StoredRecord<V>;
  }

  /** Deletes the record: true when it was live, false when it was absent. */
  async delete(key: string, options: WriteOptions & { ifRevision?: number } = {}): Promise<boolean> {
    return this.#t
      .send({ method: "DELETE", path: this.#record(key), headers: conditions(options), write: true, options })
      .then(() => true, absentAsNull)
      .then(Boolean);
  }

  /**
   * The records in key byte order, across every page (one request per page). `values: false`
   * lists keys and revisions only.
   */
  list(options: ListOptions & { values: false }): Listing<KeyInfo>;
  list(options?: ListOptions): Listing<StoredRecord<V>>;
  list({ prefix, pageSize, values, cursor, ...options }: ListOptions = {}): Listing<KeyInfo | StoredRecord<V>> {
    const t = this.#t;
    const path = `${this.#path}/records`;
    async function* pages() {
      let next = cursor;
      do {
        const query = { prefix, limit: pageSize, values: values === false ? false : undefined, cursor: next };
        const page = (await t.send({ method: "GET", path, query, options })).body as C.ListPage;
        next = page.cursor ?? undefined;
        yield { items: page.items.map(dated) as StoredRecord<V>[], cursor: page.cursor };
      } while (next !== undefined);
    }
    return {
      pages,
      async *[Symbol.asyncIterator]() {
        for await (const page of pages()) yield* page.items;
      },
    };
  }

  /**
   * Reads many records. Keys the service left out to keep its answer small (`unprocessed`)
   * are asked for again until every key is either read or missing.
   */
  async bulkGet(keys: string[], options?: CallOptions): Promise<BulkGetResult<V>> {
    const result: BulkGetResult<V> = { items: [], missing: [] };
    let pending = keys;
    while (pending.length > 0) {
      const { body } = await this.#t.send({
        method: "POST",
        path: `${this.#path}/bulk-get`,
        body: { keys: pending },
        options,
      });
      const page = body as C.BulkGetResponse;
      // each answer holds at least one record; one that holds none would loop for ever
      if (page.items.length === 0 && page.unprocessed.length > 0) {
        throw new StorageError(200, "BAD_RESPONSE", "bulk-get returned no records and unprocessed keys");
      }
      result.items.push(...(page.items.map(dated) as StoredRecord<V>[]));
      result.missing.push(...page.missing);
      pending = page.unprocessed ?? [];
    }
    return result;
  }

  /** Writes many records, all or nothing (per item: `ifRevision`, `ifAbsent`, a TTL). */
  async bulkPut(items: BulkPutItem<V>[], options?: WriteOptions): Promise<BulkPutResult[]> {
    const { body } = await this.#t.send({
      method: "POST",
      path: `${this.#path}/bulk-put`,
      body: { items: items.map((item) => ({ ...item, ...expiry(item) })) },
      write: true,
      options,
    });
    return (body as C.BulkPutResponse).items.map(dated);
  }

  /** Deletes many records, all or nothing; keys, or items with `ifRevision`. Returns how many were live. */
  async bulkDelete(keys: string[] | BulkDeleteItem[], options?: WriteOptions): Promise<number> {
    const { body } = await this.#t.send({
      method: "POST",
      path: `${this.#path}/bulk-delete`,
      body: keys.some((k) => typeof k !== "string") ? { items: keys } : { keys },
      write: true,
      options,
    });
    return (body as C.Deleted).deleted;
  }

  /** Deletes every record of the namespace, atomically; returns how many there were. */
  async clear(options?: WriteOptions): Promise<number> {
    const { body } = await this.#t.send({ method: "DELETE", path: this.#path, write: true, options });
    return (body as C.Deleted).deleted;
  }

  /** One page of this namespace's changes after `since`, oldest first; read on from `cursor`. */
  changes(options: ChangesOptions = {}): Promise<ChangesPage> {
    return changes(this.#t, this.#path, options);
  }

  /**
   * This namespace's changes as they are committed, for as long as the caller iterates
   * (break out of the loop, or abort the signal, to stop); it reconnects by itself and goes on
   * from the last change seen.
   */
  watch(options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    return watch(this.#t, this.#path, options);
  }
}

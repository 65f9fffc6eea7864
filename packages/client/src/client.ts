import { AtomicBatch } from "./atomic.ts";
import type * as C from "./contract.ts";
import { changes, watch } from "./feed.ts";
import { Namespace } from "./namespace.ts";
import { type CallOptions, type ClientOptions, Transport } from "./transport.ts";
import type { ChangesOptions, ChangesPage, NamespaceInfo, Usage, WatchEvent, WatchOptions } from "./types.ts";

/**
 * A client of the storage service for one token (one install). It holds no connection of its
 * own: every call is one or more `fetch`es, so one client may be shared freely.
 *
 * ```ts
 * const storage = new StorageClient({ baseUrl: "https://storage.example", token: getToken });
 * await storage.ns("settings").put("theme", { mode: "dark" });
 * ```
 */
export class StorageClient {
  readonly #t: Transport;

  /** `baseUrl` and `token` are required; the rest tunes timeouts, retries and the fetch used. */
  constructor(options: ClientOptions) {
    this.#t = new Transport(options);
  }

  /** A namespace of the install; `V` is the type of its values (for the caller's types only). */
  ns<V = unknown>(name: string): Namespace<V> {
    return new Namespace<V>(this.#t, name);
  }

  /** A batch of checks and operations over any namespaces, committed in one transaction. */
  atomic(): AtomicBatch {
    return new AtomicBatch(this.#t);
  }

  /** The install's live usage and the limits in force. */
  async usage(options?: CallOptions): Promise<Usage> {
    return (await this.#t.send({ method: "GET", path: "/v1/usage", options })).body as Usage;
  }

  /** The install's namespaces that hold live records, with their record count and bytes. */
  async namespaces(options?: CallOptions): Promise<NamespaceInfo[]> {
    return ((await this.#t.send({ method: "GET", path: "/v1/namespaces", options })).body as C.Namespaces).namespaces;
  }

  /** One page of the install's changes after `since` (optionally of one namespace), oldest first. */
  changes(options: ChangesOptions & { namespace?: string } = {}): Promise<ChangesPage> {
    return changes(this.#t, "/v1", options);
  }

  /** The install's changes as they are committed (see `Namespace.watch`). */
  watch(options: WatchOptions & { namespace?: string } = {}): AsyncIterable<WatchEvent> {
    return watch(this.#t, "/v1", options);
  }
}

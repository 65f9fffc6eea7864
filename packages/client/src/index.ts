// @ext-storage/client: the service's TypeScript client (spec section 17). ESM, fetch-based,
// no dependencies; for Bun, Deno, Node 20+, browsers and extension service workers.
export { AtomicBatch } from "./atomic.ts";
export { StorageClient } from "./client.ts";
export type * as Wire from "./contract.ts";
export type { ErrorCode, ErrorDetails } from "./contract.ts";
export { type ClientErrorCode, type DetailsOf, StorageError } from "./errors.ts";
export type { Listing, Namespace, NamespaceSchema } from "./namespace.ts";
export type { CallOptions, ClientOptions, FetchLike, RetryOptions, TokenSource, WriteOptions } from "./transport.ts";
export type * from "./types.ts";

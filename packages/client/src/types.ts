// The client's result and option types, derived from the contract's generated wire types
// (contract.ts): the same fields, with RFC 3339 timestamps turned into Date.
import type * as C from "./contract.ts";
import type { CallOptions, WriteOptions } from "./transport.ts";

type Timestamp = "expiresAt" | "createdAt" | "updatedAt";
type ToDate<V> = V extends string ? Date : V;
/** A wire shape with its timestamps as `Date`. */
export type Dated<T> = { [K in keyof T]: K extends Timestamp ? ToDate<T[K]> : T[K] };

/** A record as reads return it; `V` is the type the caller gives its values. */
export type StoredRecord<V = unknown> = Omit<Dated<C.Record>, "value"> & { value: V };
/** A record listed with `values: false`. */
export type KeyInfo = Omit<Dated<C.ListPage["items"][number]>, "value">;
/** What a put returns: the record without its value, and whether the write created it. */
export type WriteResult = Dated<C.WriteResponse> & { created: boolean };
/** A bulk-put item's result, in request order. */
export type BulkPutResult = Dated<C.BulkPutResponse["items"][number]>;
/** What bulkGet returns: the live records (every unprocessed key asked for again) and the keys absent. */
export type BulkGetResult<V = unknown> = { items: StoredRecord<V>[]; missing: string[] };
/** A namespace that holds live records, with their count and bytes. */
export type NamespaceInfo = C.Namespaces["namespaces"][number];
/** The install's live usage and the limits in force. */
export type Usage = C.Usage;
/** A namespace's schema as the service keeps it, with its version (which grows with every put). */
export type Schema = C.Schema;
/** What a schema put sends: a draft 2020-12 JSON Schema, and optionally a default TTL and a value size limit. */
export type SchemaBody = C.SchemaBody;
/** One operation's result in an atomic commit, in ops order. */
export type AtomicResult = C.AtomicResponse["items"][number];
/** A change of the feed. */
export type Change = Dated<C.Change>;
/** A page of the change feed; `cursor` goes on after its last change. */
export type ChangesPage = { items: Change[]; cursor: string };
/** A change received by `watch`, with the cursor that resumes after it. */
export type WatchEvent = Change & { cursor: string };

/** A TTL: seconds from now, or an instant (a `Date` or an RFC 3339 string); not both. */
export type Expiry = Omit<C.WriteBody, "value" | "expiresAt"> & { expiresAt?: Date | string };

/** The options of a put: a precondition, a TTL, and those of every write. */
export type PutOptions = WriteOptions &
  Expiry & {
    /** write only if the record is live at this revision (If-Match) */
    ifRevision?: number;
    /** write only if the record is absent (If-None-Match: *) */
    ifAbsent?: boolean;
  };

/** One record of a bulkPut, with its own precondition and TTL. */
export type BulkPutItem<V = unknown> = Omit<C.BulkPutBody["items"][number], "value" | "expiresAt"> &
  Expiry & { value: V };
/** One key of a bulkDelete, optionally with the revision it must have. */
export type BulkDeleteItem = Extract<C.BulkDeleteBody, { items: unknown }>["items"][number];

/** The options of a list. */
export type ListOptions = CallOptions & {
  /** only keys that start with this (literally) */
  prefix?: string;
  /** records per request, 1–1000 (the service's default: 100) */
  pageSize?: number;
  /** `false` leaves values out */
  values?: boolean;
  /** go on from a cursor an earlier page returned */
  cursor?: string;
};

/** The options of a changes read. */
export type ChangesOptions = CallOptions & {
  /** a cursor from an earlier page or event, or `"now"`; default: the oldest change kept */
  since?: string;
  /** only keys that start with this */
  prefix?: string;
  /** changes per page, 1–1000 */
  limit?: number;
  /** include each put's value */
  values?: boolean;
};

/** The options of a watch. */
export type WatchOptions = CallOptions & {
  /** a cursor to resume after; default: the current end of the feed (only changes from now) */
  since?: string;
  /** only keys that start with this */
  prefix?: string;
};

// Response bodies of the read routes, written around each value's JSON text as the database
// returned it: parsing a stored value only to write it out again took a third of the
// service's CPU on GET (bun run load ceiling). Field names and order are the contract's.
import type { Change, ChangesPage } from "../records/changes.ts";
import type { RecordMeta, StoredRecord } from "../records/record.ts";

const str = JSON.stringify;

const metaFields = (r: RecordMeta) =>
  `"revision":${r.revision},"expiresAt":${str(r.expiresAt)},"createdAt":${str(r.createdAt)},"updatedAt":${str(r.updatedAt)}`;

export const recordJson = (r: StoredRecord) => `{"key":${str(r.key)},"value":${r.valueJson},${metaFields(r)}}`;

const itemJson = (r: RecordMeta | StoredRecord) =>
  "valueJson" in r ? recordJson(r) : `{"key":${str(r.key)},${metaFields(r)}}`;

export const listPageJson = (page: { items: Array<RecordMeta | StoredRecord>; cursor: string | null }) =>
  `{"items":[${page.items.map(itemJson).join(",")}],"cursor":${str(page.cursor)}}`;

export const bulkGetJson = (result: { items: StoredRecord[]; missing: string[]; unprocessed: string[] }) =>
  `{"items":[${result.items.map(recordJson).join(",")}],"missing":${str(result.missing)},"unprocessed":${str(result.unprocessed)}}`;

/** A change of the feed: its value (values=true) passed on as the JSON text it was written as. */
export const changeJson = (c: Change) =>
  `{"type":${str(c.type)},"namespace":${str(c.namespace)}${c.key === undefined ? "" : `,"key":${str(c.key)}`},"revision":${c.revision}` +
  `${c.expiresAt === undefined ? "" : `,"expiresAt":${str(c.expiresAt)}`}${c.valueJson === undefined ? "" : `,"value":${c.valueJson}`}` +
  `${c.reason === undefined ? "" : `,"reason":${str(c.reason)}`}}`;

export const changesPageJson = (page: ChangesPage) =>
  `{"items":[${page.items.map((i) => changeJson(i.change)).join(",")}],"cursor":${str(page.cursor)}}`;

// Response bodies of the read routes, written around each value's JSON text as the database
// returned it: parsing a stored value only to write it out again took a third of the
// service's CPU on GET (bun run load ceiling). Field names and order are the contract's.
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

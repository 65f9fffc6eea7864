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

/** `items` as the parts of a JSON array's members: the first bare, each next after a comma. */
const members = <T>(items: readonly T[], json: (item: T) => string) =>
  items.map((item, i) => (i === 0 ? json(item) : `,${json(item)}`));

/** A list page, in parts (see reply.ts: a page of megabytes is sent in pieces). */
export const listPageJson = (page: { items: Array<RecordMeta | StoredRecord>; cursor: string | null }) => [
  `{"items":[`,
  ...members(page.items, itemJson),
  `],"cursor":${str(page.cursor)}}`,
];

/** A bulk-get answer, in parts. */
export const bulkGetJson = (result: { items: StoredRecord[]; missing: string[]; unprocessed: string[] }) => [
  `{"items":[`,
  ...members(result.items, recordJson),
  `],"missing":${str(result.missing)},"unprocessed":${str(result.unprocessed)}}`,
];

/** A change of the feed: its value (values=true) passed on as the JSON text it was written as. */
export const changeJson = (c: Change) =>
  `{"type":${str(c.type)},"namespace":${str(c.namespace)}${c.key === undefined ? "" : `,"key":${str(c.key)}`},"revision":${c.revision}` +
  `${c.expiresAt === undefined ? "" : `,"expiresAt":${str(c.expiresAt)}`}${c.valueJson === undefined ? "" : `,"value":${c.valueJson}`}` +
  `${c.reason === undefined ? "" : `,"reason":${str(c.reason)}`}}`;

/** A page of the change feed, in parts. */
export const changesPageJson = (page: ChangesPage) => [
  `{"items":[`,
  ...members(page.items, (i) => changeJson(i.change)),
  `],"cursor":${str(page.cursor)}}`,
];

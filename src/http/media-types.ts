// The media types a request body is taken in, the preferred one first: one list per kind of
// body, read both by the check that answers 415 to anything else and by the OpenAPI
// document, so that the document names exactly what a route takes.
import type { TSchema } from "@sinclair/typebox";

export type MediaTypes = readonly [string, ...string[]];

/** Every JSON body. */
export const JSON_BODY: MediaTypes = ["application/json"];
/** PATCH: a JSON Merge Patch (RFC 7396) in its own type, or as plain JSON. */
export const MERGE_PATCH_BODY: MediaTypes = ["application/merge-patch+json", "application/json"];
/** An install import: newline-delimited JSON under either of its names. */
export const NDJSON_BODY: MediaTypes = ["application/x-ndjson", "application/jsonl"];

const escaped = (type: string) => type.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const patterns = new WeakMap<MediaTypes, RegExp>();

/** Whether a Content-Type value names one of `types`, with at most a `charset=utf-8`. */
export function isOneOf(types: MediaTypes, contentType: string): boolean {
  let pattern = patterns.get(types);
  if (pattern === undefined) {
    const names = types.map(escaped).join("|");
    pattern = new RegExp(`^(${names})\\s*(;\\s*charset\\s*=\\s*"?utf-8"?\\s*)?$`, "i");
    patterns.set(types, pattern);
  }
  return pattern.test(contentType.trim());
}

/** The 415's words: "application/merge-patch+json or application/json". */
export const typesText = (types: MediaTypes) => types.join(" or ");

/** An OpenAPI `content` map: each type, in order, with the body's schema. */
export const contentOf = (types: MediaTypes, schema: TSchema) =>
  Object.fromEntries(types.map((type) => [type, { schema }]));

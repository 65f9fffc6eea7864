// Conditional GET (RFC 9110 §13.1.2): If-None-Match on a record read is `*` or a list of
// entity tags, strong or weak, compared weakly with the record's revision ETag. PUT reads the
// same header differently (`*` only: create only), in request.ts.
import { fail } from "../errors.ts";

/** What a read's If-None-Match asks: nothing, any live record, or one of these opaque tags. */
export type IfNoneMatch = undefined | "*" | ReadonlySet<string>;

// one list element: W/"…" or "…" (etagc: any visible character but the double quote), or a
// bare revision, as If-Match also takes it
const ELEMENT = /^(?:W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$|^(\d{1,16})$/;

/** A list header split on the commas outside quotes; undefined when a quote is left open. */
function listElements(header: string): string[] | undefined {
  const elements: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    if (header[i] === '"') quoted = !quoted;
    else if (header[i] === "," && !quoted) {
      elements.push(header.slice(start, i));
      start = i + 1;
    }
  }
  elements.push(header.slice(start));
  return quoted ? undefined : elements;
}

/**
 * The header, or a 400 when malformed. Empty list elements are allowed, as in any HTTP list,
 * but not an empty header, nor `*` within a list.
 */
export function ifNoneMatchOf(request: Request): IfNoneMatch {
  const header = request.headers.get("if-none-match");
  if (header === null) return undefined;
  if (header.trim() === "*") return "*";
  const malformed = () => fail("INVALID_REQUEST", 'If-None-Match must be * or a list of entity tags like "12", W/"12"');
  const tags = new Set<string>();
  for (const part of listElements(header) ?? [header]) {
    const element = part.trim();
    if (element === "") continue;
    const match = ELEMENT.exec(element);
    if (match === null) throw malformed();
    tags.add(match[1] ?? match[2] ?? "");
  }
  if (tags.size === 0) throw malformed();
  return tags;
}

/** Whether a record at this revision satisfies the condition, so the answer is 304. */
export const notModified = (condition: IfNoneMatch, revision: number): boolean =>
  condition === "*" || condition?.has(String(revision)) === true;

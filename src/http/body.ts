// Request bodies: JSON only, bounded in bytes and nesting before JSON.parse does any work.
// A body is read only once the request is admitted (token, rate, scope: see gate.ts), and a
// body that is refused, or not wanted, is never read to its end: the answer closes the
// connection instead (Bun would otherwise read and discard the rest of it).
import { fail } from "../errors.ts";
import { BYTES_PER_TURN, nextTurn } from "../turns.ts";
import { isOneOf, JSON_BODY, type MediaTypes, typesText } from "./media-types.ts";

const readToEnd = new WeakSet<Request>();

/** Whether the request carries a body (RFC 9112 §6.3: a Transfer-Encoding or a non-zero length). */
export function hasBody(request: Request): boolean {
  const length = request.headers.get("content-length");
  return request.headers.has("transfer-encoding") || (length !== null && length.trim() !== "0");
}

/** A body the service has not read to its end: the connection must not be reused after it. */
export const bodyLeftUnread = (request: Request) => hasBody(request) && !readToEnd.has(request);

export const tooLarge = (maxBytes: number) =>
  fail("PAYLOAD_TOO_LARGE", `the request body is over the limit of ${maxBytes} bytes`);

/** Refuses a declared Content-Length over the limit, from the headers alone. */
export function refuseDeclaredOversize(request: Request, maxBytes: number): void {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
}

// The body nests one to three levels above a value ({"items":[{"value": …}]}), and a value
// nests at most 32; one level more is parsed, so that a bulk item whose value is one level
// too deep is named by its index; anything deeper is refused before it is parsed.
const MAX_BODY_DEPTH = 32 + 3 + 1;

// the body's text as it was sent, for what must compare two requests (an idempotency key's)
const rawTexts = new WeakMap<Request, string>();
/** The text of the body read for this request ("" when none was read). */
export const rawBodyOf = (request: Request): string => rawTexts.get(request) ?? "";

/** The deepest nesting of arrays/objects in JSON text, strings skipped; stops past `limit`.
 * A string is skipped with indexOf (native) rather than character by character: the text
 * of a bulk-put is mostly strings, and a scan of 8 MiB in JavaScript took 10-20 ms. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // the closing quote: the next one after an even run of backslashes (each backslash
      // belongs to one run, so the whole scan stays linear)
      let end = text.indexOf('"', i + 1);
      for (;;) {
        if (end === -1) return false; // unterminated: JSON.parse names it
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 92 /* \ */) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      i = end;
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > limit) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}

/** The body as text, decoded as its chunks arrive (no copy of the whole, and the decoding
 * spread over the reads): 413 past `maxBytes`, 400 for bytes that are not UTF-8. `read` is
 * told the byte length once the body is read whole. */
async function readText(request: Request, maxBytes: number, read?: (bytes: number) => void): Promise<string> {
  refuseDeclaredOversize(request, maxBytes);
  if (request.body === null) {
    read?.(0);
    return "";
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const parts: string[] = [];
  let total = 0;
  const reader = request.body.getReader();
  // a body already buffered comes in chunks without a turn of the event loop between them
  // (each read settles at once): a pause every BYTES_PER_TURN decoded
  let sinceTurn = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    sinceTurn += value.byteLength;
    if (sinceTurn > BYTES_PER_TURN) {
      await nextTurn();
      sinceTurn = 0;
    }
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    try {
      parts.push(decoder.decode(value, { stream: true }));
    } catch {
      await reader.cancel().catch(() => {});
      throw fail("INVALID_REQUEST", "the request body is not valid UTF-8");
    }
  }
  readToEnd.add(request);
  read?.(total);
  try {
    parts.push(decoder.decode());
  } catch {
    throw fail("INVALID_REQUEST", "the request body is not valid UTF-8");
  }
  return parts.length === 1 ? (parts[0] as string) : parts.join("");
}

/** The request's JSON body, sent as one of the media types `accept`; `read` is told its byte
 * length once it is read whole. */
export async function readJson(
  request: Request,
  maxBytes: number,
  accept: MediaTypes = JSON_BODY,
  read?: (bytes: number) => void,
): Promise<unknown> {
  if (!isOneOf(accept, request.headers.get("content-type") ?? "")) {
    throw fail("UNSUPPORTED_MEDIA_TYPE", `the request body must be sent as ${typesText(accept)}`);
  }
  const text = await readText(request, maxBytes, read);
  rawTexts.set(request, text);
  // a large body is checked and parsed in turns of the event loop of their own
  const big = text.length > BYTES_PER_TURN;
  if (big) await nextTurn();
  if (jsonDepthExceeds(text, MAX_BODY_DEPTH)) {
    throw fail("INVALID_REQUEST", "the request body nests too deeply (values nest at most 32 levels)");
  }
  if (big) await nextTurn();
  try {
    return JSON.parse(text);
  } catch {
    throw fail("INVALID_REQUEST", "the request body is not well-formed JSON");
  }
}

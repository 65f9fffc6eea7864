// Request bodies: JSON only, bounded in bytes and nesting before JSON.parse does any work.
// Elysia runs a route's parser before its transform hooks, but the contract ranks 401/403
// above 415/413/400. So a parser failure is not thrown here: it is handed on as a
// DeferredBodyError and thrown by the gate once the token and scope have been checked.
import { AppError, fail } from "../errors.ts";

export class DeferredBodyError {
  constructor(readonly error: AppError) {}
}

// The body nests one to three levels above a value ({"items":[{"value": …}]}), and a value
// nests at most 32; one level more is parsed, so that a bulk item whose value is one level
// too deep is named by its index; anything deeper is refused before it is parsed.
const MAX_BODY_DEPTH = 32 + 3 + 1;
const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The deepest nesting of arrays/objects in JSON text, strings skipped; stops past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > limit) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}

async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  const tooLarge = () => fail("PAYLOAD_TOO_LARGE", `the request body is over the limit of ${maxBytes} bytes`);
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!JSON_TYPE.test(type.trim())) {
    throw fail("UNSUPPORTED_MEDIA_TYPE", "the request body must be sent as application/json");
  }
  const bytes = await readCapped(request, maxBytes);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw fail("INVALID_REQUEST", "the request body is not valid UTF-8");
  }
  if (jsonDepthExceeds(text, MAX_BODY_DEPTH)) {
    throw fail("INVALID_REQUEST", "the request body nests too deeply (values nest at most 32 levels)");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw fail("INVALID_REQUEST", "the request body is not well-formed JSON");
  }
}

/** A route's parse hook: the parsed body, or the deferred reason it could not be read. */
export const jsonBody =
  (maxBytes: number) =>
  async ({ request }: { request: Request }): Promise<unknown> => {
    try {
      return await readJson(request, maxBytes);
    } catch (error) {
      if (error instanceof AppError) return new DeferredBodyError(error);
      throw error;
    }
  };

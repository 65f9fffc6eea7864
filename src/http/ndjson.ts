// NDJSON request bodies (an install import): read as a stream and cut into lines as the
// bytes come, so no line is ever longer in memory than its bound, and the whole body never
// more than its own. Like every body, it is read only once the request was admitted.
import { fail } from "../errors.ts";
import { isOneOf, NDJSON_BODY, typesText } from "./media-types.ts";

export function checkNdjsonType(request: Request): void {
  if (!isOneOf(NDJSON_BODY, request.headers.get("content-type") ?? "")) {
    throw fail("UNSUPPORTED_MEDIA_TYPE", `the request body must be sent as ${typesText(NDJSON_BODY)}`);
  }
}

export type Line = { number: number; text: string };
export type LineBounds = { maxLineBytes: number; maxTotalBytes: number };

const decoder = new TextDecoder("utf-8", { fatal: true });

function decodeLine(bytes: Uint8Array, number: number): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 /* \r */ ? bytes.length - 1 : bytes.length;
  try {
    return decoder.decode(bytes.subarray(0, end));
  } catch {
    throw fail("INVALID_REQUEST", `line ${number}: not valid UTF-8`, { line: number });
  }
}

/**
 * The body's lines, numbered from 1, without their line ends (`\n`, or `\r\n`); empty
 * lines are skipped but counted. A line over maxLineBytes, or a body over maxTotalBytes, is
 * a 413 as soon as its bytes show it, and the rest of the body is not read.
 */
export async function* ndjsonLines(body: ReadableStream<Uint8Array> | null, bounds: LineBounds): AsyncGenerator<Line> {
  if (body === null) return;
  const reader = body.getReader();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let total = 0;
  let number = 0;
  const tooLong = () =>
    fail("PAYLOAD_TOO_LARGE", `line ${number + 1} is over the limit of ${bounds.maxLineBytes} bytes`, {
      line: number + 1,
      limit: bounds.maxLineBytes,
    });
  const take = (last: Uint8Array): Uint8Array => {
    if (pending.length === 0) return last;
    const whole = new Uint8Array(pendingBytes + last.length);
    let offset = 0;
    for (const part of pending) {
      whole.set(part, offset);
      offset += part.length;
    }
    whole.set(last, offset);
    pending = [];
    pendingBytes = 0;
    return whole;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > bounds.maxTotalBytes) {
        throw fail("PAYLOAD_TOO_LARGE", `the request body is over the limit of ${bounds.maxTotalBytes} bytes`);
      }
      let start = 0;
      for (let end = value.indexOf(10, start); end !== -1; end = value.indexOf(10, start)) {
        if (pendingBytes + end - start > bounds.maxLineBytes) throw tooLong();
        const bytes = take(value.subarray(start, end));
        number++;
        start = end + 1;
        const text = decodeLine(bytes, number);
        if (text.trim() !== "") yield { number, text };
      }
      if (start < value.length) {
        pending.push(value.subarray(start));
        pendingBytes += value.length - start;
        if (pendingBytes > bounds.maxLineBytes) throw tooLong();
      }
    }
    if (pendingBytes > 0) {
      number++;
      const text = decodeLine(take(new Uint8Array(0)), number);
      if (text.trim() !== "") yield { number, text };
    }
  } finally {
    // stopped early (a refusal, a bad line): the rest of the body is never read
    await reader.cancel().catch(() => {});
  }
}

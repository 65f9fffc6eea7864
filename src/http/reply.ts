// A route's answer as data: {status, headers, body}, built from a domain result in one step
// and handed to Elysia in one place. A value, so whatever must keep an answer (an
// idempotency store, inside the write's transaction) keeps exactly what is sent.
import { BYTES_PER_TURN } from "../turns.ts";
import { addVary } from "./cors.ts";

export type Reply = {
  status: number;
  headers?: Readonly<Record<string, string>>;
  /** an object Elysia serialises, a JSON text already written, or nothing */
  body?: unknown;
};

/** A body already written as JSON text, whole or in parts (see json.ts). Parts of more than
 * BYTES_PER_TURN characters are sent as a stream of pieces of about that size, each encoded
 * when the connection asks for it: encoding a 4 MiB page at once held the event loop for
 * 20-50 ms, and the other installs' requests with it. */
export const jsonText = (
  status: number,
  text: string | readonly string[],
  headers: Record<string, string> = {},
): Reply => ({
  status,
  headers: { ...headers, "content-type": "application/json" },
  body: typeof text === "string" ? text : partsBody(text),
});

/** 200 with a body Elysia serialises. */
export const ok = (body: unknown): Reply => ({ status: 200, body });
/** 201 or 200: a resource created, or one replaced. */
export const createdOrOk = (created: boolean, body: unknown): Reply => ({ status: created ? 201 : 200, body });
/** 204, no body. */
export const noContent: Reply = { status: 204 };

const bodyLengths = new WeakMap<object, number>();

/** The characters of a reply's body (a JSON text or a stream of one): its install's work. */
export const bodyLength = (body: unknown): number =>
  typeof body === "string" ? body.length : typeof body === "object" && body !== null ? (bodyLengths.get(body) ?? 0) : 0;

function partsBody(parts: readonly string[]): string | ReadableStream<Uint8Array> {
  let length = 0;
  for (const part of parts) length += part.length;
  if (length <= BYTES_PER_TURN) return parts.join("");
  const encoder = new TextEncoder();
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      let piece = "";
      while (next < parts.length && piece.length < BYTES_PER_TURN) piece += parts[next++];
      controller.enqueue(encoder.encode(piece));
      if (next >= parts.length) controller.close();
    },
  });
  bodyLengths.set(stream, length);
  return stream;
}

type Set = { status?: number | string; headers: Record<string, unknown> };

/** Puts a reply on Elysia's response: its status and headers (Vary is added to, not
 * replaced: CORS may have set it), and returns its body. */
export function send(set: Set, reply: Reply): unknown {
  set.status = reply.status;
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    if (name === "vary") addVary(set.headers, value);
    else set.headers[name] = value;
  }
  return reply.body;
}

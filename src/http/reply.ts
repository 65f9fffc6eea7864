// A route's answer as data: {status, headers, body}, built from a domain result in one step
// and handed to Elysia in one place. A value, so whatever must keep an answer (an
// idempotency store, inside the write's transaction) keeps exactly what is sent.
import { addVary } from "./cors.ts";

export type Reply = {
  status: number;
  headers?: Readonly<Record<string, string>>;
  /** an object Elysia serialises, a JSON text already written, or nothing */
  body?: unknown;
};

/** A body already written as JSON text (see json.ts). */
export const jsonText = (status: number, text: string, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { ...headers, "content-type": "application/json" },
  body: text,
});

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

// Exactly-once writes (contract section 15): a write that carries an Idempotency-Key keeps
// its first 2xx answer with its install, in the write's own transaction; a repeat of the same
// request gets that answer again and changes nothing, the same key on another request is a
// 409. The lookup is pipelined with the install's lock (installs.lock, then
// idempotency.get), so a repeat that arrives while the first is still running waits for the
// lock like any write of the install, then finds the first one's answer: it never runs twice
// and never needs an "in progress" refusal (only a first write that outlives the repeat's
// transaction bound turns the repeat into a 503, which is safe to retry).
import type { Queryable } from "../db/client.ts";
import { fail } from "../errors.ts";
import type { Install } from "./install.ts";

/** An answer as kept and replayed: the route's reply (status, the headers that matter, the
 * body as an object, a JSON text, or nothing). */
export type KeptAnswer = { status: number; headers?: Readonly<Record<string, string>>; body?: unknown };

/**
 * What a write that carries an Idempotency-Key asks of its transaction: the key, the hash of
 * the request (method, path, body), how long the answer is kept, and how the write's result
 * becomes the answer the route sends (computed inside the transaction so that it is kept
 * with the write).
 */
export type Remember<T> = Readonly<{
  key: string;
  hash: string;
  ttlSeconds: number;
  answer: (value: T) => KeptAnswer;
}>;

/** A Remember of a domain result, seen from a layer below that returns something else. */
export const rememberVia = <T, U>(remember: Remember<T> | undefined, to: (value: U) => T): Remember<U> | undefined =>
  remember === undefined ? undefined : { ...remember, answer: (value: U) => remember.answer(to(value)) };

/** The kept answer of a repeated request, on its way to the route (thrown, so that the
 * transaction it was found in rolls back: a replay changes nothing). */
export class Replay extends Error {
  constructor(readonly answer: KeptAnswer) {
    super("replayed");
  }
}

type KeptRow = { request_hash: string; status: number; headers: Record<string, string>; body: string | null };

/** The kept answer for the key, read after the install's lock; undefined when none. */
export const lookUp = (q: Queryable, install: Install, key: string) =>
  q.run<KeptRow>("idempotency.get", [install.installId, install.tenantId, key]);

/** What a kept entry means for this request: replay it, or the key was used for another. */
export function replayOf(row: KeptRow, hash: string): Replay {
  if (row.request_hash !== hash) {
    throw fail("CONFLICT", "this Idempotency-Key was used for another request (method, path or body)", {
      reason: "idempotency_key_reused",
    });
  }
  return new Replay({
    status: row.status,
    headers: row.headers,
    body: row.body === null ? undefined : JSON.parse(row.body),
  });
}

/** Keeps a 2xx answer (any other is not kept), in the write's transaction: the statement,
 * sent now; a failure to render the answer throws here, before the caller's COMMIT. */
export function keep<T>(q: Queryable, install: Install, remember: Remember<T>, value: T): Promise<unknown> {
  const answer = remember.answer(value);
  if (answer.status < 200 || answer.status > 299) return Promise.resolve();
  const { "content-type": _, ...headers } = answer.headers ?? {};
  const body =
    answer.body === undefined || answer.body === ""
      ? null
      : typeof answer.body === "string"
        ? answer.body
        : JSON.stringify(answer.body);
  return q.run("idempotency.put", [
    install.installId,
    install.tenantId,
    remember.key,
    remember.hash,
    answer.status,
    JSON.stringify(headers),
    body,
    remember.ttlSeconds,
  ]);
}

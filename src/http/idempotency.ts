// The Idempotency-Key of a write (contract section 15), at the edge: the header checked, the
// request hashed (method, raw path, body text as sent), and the route's reply either made
// and kept by the write's transaction, or replayed from what was kept.
import { createHash } from "node:crypto";
import { ID_PATTERN } from "../contract/index.ts";
import { fail } from "../errors.ts";
import { type Remember, Replay } from "../records/idempotency.ts";
import { rawBodyOf } from "./body.ts";
import { type Reply, send } from "./reply.ts";

type Set = Parameters<typeof send>[0];

/** The request's Idempotency-Key, or undefined; a malformed one is a 400. */
export function idempotencyKeyOf(request: Request): string | undefined {
  const key = request.headers.get("idempotency-key");
  if (key === null) return undefined;
  // same alphabet and length as the ids (1–128 characters of [A-Za-z0-9._:-])
  if (!ID_PATTERN.test(key)) {
    throw fail("INVALID_REQUEST", "Idempotency-Key must be 1–128 characters of [A-Za-z0-9._:-]");
  }
  return key;
}

/** The path as sent (still percent-encoded), without the query. */
function rawPath(url: string): string {
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return url.slice(start, query < 0 ? undefined : query);
}

/** SHA-256 of the method, the raw path and the body text, hex: what "the same request" means. */
export function requestHash(request: Request): string {
  return createHash("sha256")
    .update(`${request.method}\n${rawPath(request.url)}\n`)
    .update(rawBodyOf(request))
    .digest("hex");
}

/**
 * Runs a write and answers it: `run` gets what to remember when the request carries an
 * Idempotency-Key (the write's transaction keeps the reply `reply` makes of its result), and
 * a repeated request is answered with the kept reply and `Idempotent-Replayed: true`.
 */
export async function replying<T>(
  set: Set,
  request: Request,
  ttlSeconds: number,
  run: (remember: Remember<T> | undefined) => Promise<T>,
  reply: (value: T) => Reply,
): Promise<unknown> {
  const key = idempotencyKeyOf(request);
  const remember = key === undefined ? undefined : { key, hash: requestHash(request), ttlSeconds, answer: reply };
  try {
    return send(set, reply(await run(remember)));
  } catch (error) {
    if (!(error instanceof Replay)) throw error;
    const { status, headers, body } = error.answer;
    return send(set, { status, headers: { ...headers, "idempotent-replayed": "true" }, body });
  }
}

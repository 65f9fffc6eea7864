// What a route answers, declared from the contract: its 2xx bodies and the error codes it can
// give, grouped by status, each with its body schema. Elysia validates the 2xx bodies of the
// routes that return objects and the OpenAPI document lists them all.
import { type TObject, type TSchema, Type as t } from "@sinclair/typebox";
import { ERROR_STATUS, type ErrorCode, errorBodiesOf } from "../contract/index.ts";

/** The errors every admitted route can give besides its own: host, token, scope, database. */
const ADMISSION: readonly ErrorCode[] = ["INVALID_REQUEST", "UNAUTHENTICATED", "FORBIDDEN", "UNAVAILABLE"];
/** And a route acting on the token's install: its request rate (admin tokens are not limited). */
export const INSTALL: readonly ErrorCode[] = ["RATE_LIMITED"];
/** And a route with a path parameter: a `.`/`..` segment names no route (http/target.ts). */
export const PATH: readonly ErrorCode[] = ["NOT_FOUND"];
/** And a route acting on one namespace of the token's install. */
export const NAMESPACE = [...INSTALL, ...PATH, "INVALID_NAMESPACE"] as const satisfies readonly ErrorCode[];
/** And a route taking a JSON body: reading it. */
export const BODY: readonly ErrorCode[] = ["UNSUPPORTED_MEDIA_TYPE", "PAYLOAD_TOO_LARGE"];

export type Answers = Record<number, TSchema>;

/** The 2xx bodies given and the error bodies of the admission's codes plus `codes`, by status. */
export function answers(ok: Answers, codes: readonly ErrorCode[] = []): Answers {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...ADMISSION, ...codes])) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Answers = { ...ok };
  for (const [status, list] of byStatus) out[status] = errorBodiesOf(list);
  return out;
}

/**
 * The OpenAPI `responses` of a route whose 2xx body is written as JSON text (http/json.ts):
 * Elysia would check a string against an object schema, so these are documented, not hooked.
 */
export function documented(ok: Answers, codes: readonly ErrorCode[] = []) {
  const responses: Record<string, { description: string; content: { "application/json": { schema: TSchema } } }> = {};
  for (const [status, schema] of Object.entries(answers(ok, codes))) {
    responses[status] = {
      description: Number(status) < 400 ? "OK" : "error",
      content: { "application/json": { schema } },
    };
  }
  return { responses };
}

/**
 * A route's `query` hook from the contract's query schema, for the OpenAPI document and the
 * handler's types: every parameter an optional string with its description, anything let
 * through. The query is parsed strictly by the route itself (http/request.ts), after the
 * path and the token: Elysia's check would refuse first, and in its own words.
 */
export function passedQuery(schema: TObject) {
  const properties = Object.fromEntries(
    Object.entries(schema.properties).map(([name, property]) => [
      name,
      t.Optional(t.String({ description: property.description })),
    ]),
  );
  return t.Object(properties, { additionalProperties: true });
}

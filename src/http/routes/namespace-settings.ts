// /v1 routes about an install rather than its records: namespace schemas and usage.
import { Elysia } from "elysia";
import { deleteSchema, getSchema, putSchema } from "../../records/schemas.ts";
import { usageOf } from "../../records/usage.ts";
import { bodyGate, gate } from "../gate.ts";
import { namespaceOf } from "../request.ts";
import { installOf } from "../request-context.ts";
import * as S from "../schemas.ts";
import type { RouteDeps } from "./records.ts";

export function settingsRoutes({ db, config, admission }: RouteDeps) {
  const schemaScope = gate(admission, "storage:schema");
  const schemaBody = S.SchemaBody(config.limits.maxValueBytes);
  const tags = ["schemas"];

  return new Elysia({ name: "settings" })
    .put(
      "/v1/namespaces/:ns/schema",
      async ({ request, body, set }) => {
        const { created, schema } = await putSchema(db, config.limits, installOf(request), namespaceOf(request), body);
        set.status = created ? 201 : 200;
        return schema;
      },
      {
        ...bodyGate(admission, "storage:schema", schemaBody),
        body: schemaBody,
        response: { 200: S.Schema, 201: S.Schema },
        detail: { tags, summary: "Set the namespace's JSON Schema (draft 2020-12), default TTL and value size limit" },
      },
    )
    .get("/v1/namespaces/:ns/schema", ({ request }) => getSchema(db, installOf(request), namespaceOf(request)), {
      ...schemaScope,
      response: S.Schema,
      detail: { tags, summary: "The namespace's schema, with its version" },
    })
    .delete(
      "/v1/namespaces/:ns/schema",
      async ({ request, set }) => {
        await deleteSchema(db, installOf(request), namespaceOf(request));
        set.status = 204;
      },
      { ...schemaScope, detail: { tags, summary: "Remove the namespace's schema" } },
    )
    .get("/v1/usage", ({ request }) => usageOf(db, installOf(request), config.limits), {
      ...gate(admission, "storage:read"),
      response: S.Usage,
      detail: { tags: ["usage"], summary: "The install's live usage and the limits in force" },
    });
}

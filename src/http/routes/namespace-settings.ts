// /v1 routes about an install rather than its records: namespace schemas and usage.
import { Elysia } from "elysia";
import { S } from "../../contract/index.ts";
import { deleteSchema, getSchema, putSchema } from "../../records/schemas.ts";
import { usageOf } from "../../records/usage.ts";
import { answers, BODY, INSTALL, NAMESPACE } from "../answers.ts";
import { admission as admissionMacro } from "../gate.ts";
import { limitedBodies } from "../limits.ts";
import { createdOrOk, noContent, send } from "../reply.ts";
import type { RouteDeps } from "./records.ts";

export function settingsRoutes({ db, config, admission }: RouteDeps) {
  const schemaBody = limitedBodies(config.limits).schema;
  const tags = ["schemas"];

  return new Elysia({ name: "settings" })
    .use(admissionMacro(admission))
    .put(
      "/v1/namespaces/:ns/schema",
      async ({ body, set, install, namespace }) => {
        const { created, schema } = await putSchema(db, config.limits, install, namespace, body);
        return send(set, createdOrOk(created, schema)) as typeof schema;
      },
      {
        namespace: { scope: "storage:schema", body: schemaBody },
        body: schemaBody,
        response: answers({ 200: S.Schema, 201: S.Schema }, [...NAMESPACE, ...BODY]),
        detail: { tags, summary: "Set the namespace's JSON Schema (draft 2020-12), default TTL and value size limit" },
      },
    )
    .get("/v1/namespaces/:ns/schema", ({ install, namespace }) => getSchema(db, install, namespace), {
      namespace: "storage:schema",
      response: answers({ 200: S.Schema }, NAMESPACE),
      detail: { tags, summary: "The namespace's schema, with its version" },
    })
    .delete(
      "/v1/namespaces/:ns/schema",
      async ({ set, install, namespace }) => {
        await deleteSchema(db, install, namespace);
        send(set, noContent);
      },
      {
        namespace: "storage:schema",
        response: answers({ 204: S.NoContent }, NAMESPACE),
        detail: { tags, summary: "Remove the namespace's schema" },
      },
    )
    .get("/v1/usage", ({ install }) => usageOf(db, install, config.limits), {
      install: "storage:read",
      response: answers({ 200: S.Usage }, INSTALL),
      detail: { tags: ["usage"], summary: "The install's live usage and the limits in force" },
    });
}

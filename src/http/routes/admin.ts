// /admin/v1: the platform's routes (scope storage:admin), naming the install in the path.
import type { TSchema } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { S } from "../../contract/index.ts";
import { adminUsage, purgeInstall, setLimits } from "../../records/admin.ts";
import { exportInstall } from "../../records/export.ts";
import { applyImport } from "../../records/import.ts";
import { compileLineSchemas, ImportReader } from "../../records/import-lines.ts";
import { answers, BODY, PATH } from "../answers.ts";
import { admission as admissionMacro, streamGate } from "../gate.ts";
import { timedStream } from "../idle-timer.ts";
import { contentOf, NDJSON_BODY } from "../media-types.ts";
import { checkNdjsonType, ndjsonLines } from "../ndjson.ts";
import { noContent, send } from "../reply.ts";
import { installRefOf } from "../request.ts";
import type { RouteDeps } from "./records.ts";

// an install named in the path (a bad escape in it: INVALID_KEY); admin tokens are not rate limited
const INSTALL_PATH = [...PATH, "INVALID_KEY"] as const;

// what a line may hold beyond its value: the record line's fields, a 512-byte key escaped
const LINE_OVERHEAD_BYTES = 4096;

export function adminRoutes({ db, config, admission, watchers }: RouteDeps) {
  const tags = ["admin"];
  const { limits } = config;
  const lineChecks = compileLineSchemas({
    install: S.ExportInstallLine,
    limits: S.ExportLimitsLine,
    schema: S.ExportSchemaLine(limits.maxValueBytes),
    record: S.ExportRecordLine,
    end: S.ExportEndLine,
  });
  const ndjson = (schema: TSchema) => ({ "application/x-ndjson": { schema } });
  return new Elysia({ name: "admin" })
    .use(admissionMacro(admission))
    .get("/admin/v1/tenants/:tid/installs/:iid/usage", ({ target }) => adminUsage(db, config.limits, target), {
      adminInstall: "storage:admin",
      response: answers({ 200: S.Usage }, INSTALL_PATH),
      detail: { tags, summary: "Usage of any install (zeros for one never seen)" },
    })
    .put(
      "/admin/v1/tenants/:tid/installs/:iid/limits",
      ({ body, target }) => setLimits(db, config.limits, target, body),
      {
        adminInstall: { scope: "storage:admin", body: S.LimitsBody },
        body: S.LimitsBody,
        response: answers({ 200: S.Limits }, [...INSTALL_PATH, ...BODY]),
        detail: { tags, summary: "Per-install quota overrides (null: back to the default)" },
      },
    )
    .delete(
      "/admin/v1/tenants/:tid/installs/:iid",
      async ({ set, target }) => {
        await purgeInstall(db, target);
        // this process's streams end now; other processes' on the purge's notification
        watchers?.endInstall(target);
        return send(set, noContent);
      },
      {
        adminInstall: "storage:admin",
        response: answers({ 204: S.NoContent }, INSTALL_PATH),
        detail: { tags, summary: "Purge everything of an install (uninstall); idempotent" },
      },
    )
    .get(
      "/admin/v1/tenants/:tid/installs/:iid/export",
      async ({ target, request, server }) =>
        // its pages are read as the client takes them: the service's turns, not the client's
        new Response(timedStream(await exportInstall(db, target), request, server, config.idleTimeoutSeconds), {
          headers: { "content-type": "application/x-ndjson" },
        }),
      {
        adminInstall: "storage:admin",
        detail: {
          tags,
          summary: "The install's limits, schemas and live records as NDJSON, one line each",
          responses: { 200: { description: "OK", content: ndjson(S.ExportLine(limits.maxValueBytes)) } },
        },
      },
    )
    .post(
      "/admin/v1/tenants/:tid/installs/:iid/import",
      async ({ request }) => {
        const ref = installRefOf(request);
        const reader = new ImportReader(lineChecks, {
          maxValueBytes: limits.maxValueBytes,
          maxSchemaBytes: limits.maxSchemaBytes,
        });
        const bounds = {
          // a record line holds a value and its fields; a schema line may be as large as a
          // schema PUT's body
          maxLineBytes: Math.max(limits.maxValueBytes + LINE_OVERHEAD_BYTES, limits.maxBodyBytes),
          maxTotalBytes: limits.maxImportBytes,
        };
        for await (const line of ndjsonLines(request.body, bounds)) reader.line(line.text, line.number);
        return applyImport(db, limits, ref, reader.finish());
      },
      {
        ...streamGate(admission, "storage:admin", checkNdjsonType, limits.maxImportBytes),
        response: S.ImportResult,
        detail: {
          tags,
          summary: "Restore an export into an empty install, all or nothing",
          requestBody: { required: true, content: contentOf(NDJSON_BODY, S.ExportLine(limits.maxValueBytes)) },
        },
      },
    );
}

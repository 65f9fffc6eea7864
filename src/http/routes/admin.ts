// /admin/v1: the platform's routes (scope storage:admin), naming the install in the path.
import type { TSchema } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { fail } from "../../errors.ts";
import { adminUsage, type InstallRef, purgeInstall, setLimits } from "../../records/admin.ts";
import { exportInstall } from "../../records/export.ts";
import { applyImport } from "../../records/import.ts";
import { compileLineSchemas, ImportReader } from "../../records/import-lines.ts";
import { decodeSegment } from "../../records/keys.ts";
import { bodyGate, gate, streamGate } from "../gate.ts";
import { checkNdjsonType, ndjsonLines } from "../ndjson.ts";
import * as S from "../schemas.ts";
import { rawParam } from "../target.ts";
import type { RouteDeps } from "./records.ts";

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

// /admin/v1/tenants/:tid/installs/:iid/...
function installRef(request: Request): InstallRef {
  const id = (raw: string, what: string) => {
    const value = decodeSegment(raw, "INVALID_KEY");
    if (!ID.test(value)) throw fail("INVALID_REQUEST", `${what} must be 1–128 characters of [A-Za-z0-9._:-]`);
    return value;
  };
  return {
    tenantId: id(rawParam(request, "tid"), "the tenant id"),
    installId: id(rawParam(request, "iid"), "the install id"),
  };
}

// what a line may hold beyond its value: the record line's fields, a 512-byte key escaped
const LINE_OVERHEAD_BYTES = 4096;

export function adminRoutes({ db, config, admission }: RouteDeps) {
  const admin = gate(admission, "storage:admin");
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
    .get(
      "/admin/v1/tenants/:tid/installs/:iid/usage",
      ({ request }) => adminUsage(db, config.limits, installRef(request)),
      {
        ...admin,
        response: S.Usage,
        detail: { tags, summary: "Usage of any install (zeros for one never seen)" },
      },
    )
    .put(
      "/admin/v1/tenants/:tid/installs/:iid/limits",
      ({ request, body }) => setLimits(db, config.limits, installRef(request), body),
      {
        ...bodyGate(admission, "storage:admin", S.LimitsBody),
        body: S.LimitsBody,
        response: S.Limits,
        detail: { tags, summary: "Per-install quota overrides (null: back to the default)" },
      },
    )
    .delete(
      "/admin/v1/tenants/:tid/installs/:iid",
      async ({ request, set }) => {
        await purgeInstall(db, installRef(request));
        set.status = 204;
      },
      { ...admin, detail: { tags, summary: "Purge everything of an install (uninstall); idempotent" } },
    )
    .get(
      "/admin/v1/tenants/:tid/installs/:iid/export",
      async ({ request }) =>
        new Response(await exportInstall(db, installRef(request)), {
          headers: { "content-type": "application/x-ndjson" },
        }),
      {
        ...admin,
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
        const ref = installRef(request);
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
          requestBody: { required: true, content: ndjson(S.ExportLine(limits.maxValueBytes)) },
        },
      },
    );
}

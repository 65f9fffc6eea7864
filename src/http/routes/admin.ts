// /admin/v1: the platform's routes (scope storage:admin), naming the install in the path.
import { Elysia } from "elysia";
import { fail } from "../../errors.ts";
import { adminUsage, type InstallRef, purgeInstall, setLimits } from "../../records/admin.ts";
import { decodeSegment } from "../../records/keys.ts";
import { bodyGate, gate } from "../gate.ts";
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

export function adminRoutes({ db, config, admission }: RouteDeps) {
  const admin = gate(admission, "storage:admin");
  const tags = ["admin"];
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
    );
}

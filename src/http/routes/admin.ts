// /admin/v1: the platform's routes (scope storage:admin), naming the install in the path.
import { Elysia } from "elysia";
import { S } from "../../contract/index.ts";
import { adminUsage, purgeInstall, setLimits } from "../../records/admin.ts";
import { answers, BODY, PATH } from "../answers.ts";
import { admission as admissionMacro } from "../gate.ts";
import type { RouteDeps } from "./records.ts";

// an install named in the path (a bad escape in it: INVALID_KEY); admin tokens are not rate limited
const INSTALL_PATH = [...PATH, "INVALID_KEY"] as const;

export function adminRoutes({ db, config, admission }: RouteDeps) {
  const tags = ["admin"];
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
        set.status = 204;
      },
      {
        adminInstall: "storage:admin",
        response: answers({ 204: S.NoContent }, INSTALL_PATH),
        detail: { tags, summary: "Purge everything of an install (uninstall); idempotent" },
      },
    );
}

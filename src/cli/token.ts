// bun run token -- --tenant T --extension E --install I --scope "storage:read storage:write"
// Prints a token signed with STORAGE_JWT_SECRET, or with the embedded mode's development
// secret in STORAGE_DATA_DIR when none is set.
import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { devSecret, mintToken } from "../tokens.ts";

const { values } = parseArgs({
  options: {
    tenant: { type: "string" },
    extension: { type: "string" },
    install: { type: "string" },
    scope: { type: "string", default: "storage:read storage:write" },
    ttl: { type: "string", default: "3600" },
  },
  strict: true,
});

const config = loadConfig();
const ttlSeconds = Number(values.ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
  process.stderr.write("--ttl must be a positive number of seconds\n");
  process.exit(2);
}
if (!values.scope.includes("storage:admin") && !(values.tenant && values.extension && values.install)) {
  process.stderr.write("--tenant, --extension and --install are required unless --scope has storage:admin\n");
  process.exit(2);
}
const token = await mintToken(
  { tenantId: values.tenant, extensionId: values.extension, installId: values.install, scope: values.scope },
  {
    secret: config.jwt.secret ?? devSecret(config.dataDir),
    audience: config.jwt.audience,
    issuer: config.jwt.issuer,
    ttlSeconds,
  },
);
process.stdout.write(`${token}\n`);

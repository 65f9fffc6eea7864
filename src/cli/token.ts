// bun run token -- --tenant T --extension E --install I --scope "storage:read storage:write"
// Prints a token signed with STORAGE_JWT_SECRET, or with the embedded mode's development
// secret in STORAGE_DATA_DIR when none is set.
import { ConfigError, loadConfig } from "../config.ts";
import { devSecret, mintToken } from "../tokens.ts";
import { parseCommandLine, usageError } from "./args.ts";

const USAGE = `bun run token -- --tenant T --extension E --install I [--scope S] [--ttl SECONDS]

Prints a JWT for the service, signed with STORAGE_JWT_SECRET, or with the embedded
database's development secret (in STORAGE_DATA_DIR) when that is unset.

  --tenant T      tenant_id claim
  --extension E   extension_id claim
  --install I     install_id claim (the three are required unless --scope has storage:admin)
  --scope S       space-separated scopes (default "storage:read storage:write")
  --ttl SECONDS   lifetime (default 3600)
`;

const { values } = parseCommandLine(USAGE, {
  tenant: { type: "string" },
  extension: { type: "string" },
  install: { type: "string" },
  scope: { type: "string", default: "storage:read storage:write" },
  ttl: { type: "string", default: "3600" },
});

const ttlSeconds = Number(values.ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) usageError("--ttl must be a positive number of seconds");
if (!values.scope.includes("storage:admin") && !(values.tenant && values.extension && values.install)) {
  usageError("--tenant, --extension and --install are required unless --scope has storage:admin");
}
try {
  const config = loadConfig();
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
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? "configuration: " : ""}${(error as Error).message}\n`);
  process.exit(1);
}

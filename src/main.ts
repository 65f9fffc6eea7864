// Boot for Bun: config → database → app → listen; drain on SIGTERM.
import { buildApp, serveOptions } from "./app.ts";
import { startBackground } from "./background.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { connect } from "./db/client.ts";
import { type Embedded, startEmbedded } from "./db/embedded.ts";
import { createLogger } from "./log.ts";
import { createMetrics } from "./metrics.ts";
import { devSecret, mintToken } from "./tokens.ts";

const DRAIN_SECONDS = 10;

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel);

  let embedded: Embedded | undefined;
  let url = config.databaseUrl;
  if (url === undefined) {
    embedded = await startEmbedded(config.dataDir);
    url = embedded.url;
    log.info("embedded database ready", { dataDir: config.dataDir });
  }
  let secret = config.jwt.secret;
  if (secret === undefined) {
    if (embedded === undefined) {
      throw new ConfigError("DATABASE_URL is set but STORAGE_JWT_SECRET is not: refusing to start without a key");
    }
    secret = devSecret(config.dataDir);
  }

  const metrics = createMetrics();
  // PGlite has a single session: one connection, so transactions never interleave.
  const db = connect(
    url,
    { ...config.db, poolMax: embedded === undefined ? config.db.poolMax : 1 },
    metrics.observeQuery,
  );
  const app = buildApp({ config, db, log, jwtSecret: secret, metrics });
  const background = startBackground(db, config, metrics, log);
  app.listen({ port: config.port, hostname: config.host, ...serveOptions(config) });
  const server = app.server;
  if (server === null) throw new Error("the server did not start");
  const base = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${server.port}`;
  log.info("listening", { url: base, database: embedded === undefined ? "postgres" : "embedded" });

  if (config.jwt.secret === undefined) {
    const token = await mintToken(
      {
        tenantId: "dev-tenant",
        extensionId: "dev-extension",
        installId: "dev-install",
        scope: "storage:read storage:write storage:schema",
      },
      { secret, audience: config.jwt.audience, issuer: config.jwt.issuer, ttlSeconds: 7 * 24 * 3600 },
    );
    process.stdout.write(
      `\nDevelopment token (7 days; more with \`bun run token\`):\n${token}\n\nTry:\n` +
        `curl -X PUT ${base}/v1/namespaces/settings/records/theme -H "authorization: Bearer ${token}" ` +
        `-H "content-type: application/json" -d '{"value": {"mode": "dark"}}'\n\n`,
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("draining", { signal });
    const timer = setTimeout(() => process.exit(1), DRAIN_SECONDS * 1000);
    await server.stop(false); // stop accepting; in-flight requests finish
    await background.stop();
    await db.close(DRAIN_SECONDS);
    await embedded?.stop();
    clearTimeout(timer);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error?.stack ?? error)}\n`);
  process.exit(1);
});

// What every runtime's boot shares: config → database (embedded PGlite, or DATABASE_URL) →
// metrics → app → background work; the development token for the embedded default; and the
// orderly close. main.ts (Bun) and deno.ts (Deno) differ only in how they serve and signal.
import { buildApp } from "./app.ts";
import { startBackground } from "./background.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { connect } from "./db/client.ts";
import { type Embedded, startEmbedded } from "./db/embedded.ts";
import { createLogger } from "./log.ts";
import { createMetrics } from "./metrics.ts";
import { createWatchers } from "./records/watch.ts";
import { devSecret, mintToken } from "./tokens.ts";

const DRAIN_SECONDS = 10;

export async function boot() {
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
  const poolMax = embedded === undefined ? config.db.poolMax : 1;
  const db = connect(url, { ...config.db, poolMax, localNotify: embedded !== undefined }, metrics.observeQuery);
  const watchers = createWatchers(db, config.watch, log, metrics.countStreamEnd);
  const app = buildApp({ config, db, log, jwtSecret: secret, metrics, watchers });
  const background = startBackground(db, config, metrics, log);
  const jwtSecret = secret;

  return {
    config,
    log,
    app,
    metrics,
    database: embedded === undefined ? "postgres" : "embedded",

    /** With no configured key (the embedded default), prints a ready token and a curl line. */
    async announce(base: string) {
      if (config.jwt.secret !== undefined) return;
      const token = await mintToken(
        {
          tenantId: "dev-tenant",
          extensionId: "dev-extension",
          installId: "dev-install",
          scope: "storage:read storage:write storage:schema",
        },
        { secret: jwtSecret, audience: config.jwt.audience, issuer: config.jwt.issuer, ttlSeconds: 7 * 24 * 3600 },
      );
      process.stdout.write(
        `\nDevelopment token (7 days; more with \`bun run token\`):\n${token}\n\nTry:\n` +
          `curl -X PUT ${base}/v1/namespaces/settings/records/theme -H "authorization: Bearer ${token}" ` +
          `-H "content-type: application/json" -d '{"value": {"mode": "dark"}}'\n\n`,
      );
    },

    /**
     * The drain on SIGTERM or SIGINT, once: stop accepting (in-flight requests finish, at most
     * DRAIN_SECONDS; watch streams are closed first), then background work, pool and database;
     * exit 0, or 1 past the bound.
     */
    drainOn(
      listen: (signal: "SIGTERM" | "SIGINT", handler: () => void) => void,
      stopServer: () => Promise<void>,
      exit: (code: number) => void,
    ) {
      let stopping = false;
      const drain = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info("draining", { signal });
        const timer = setTimeout(() => exit(1), DRAIN_SECONDS * 1000);
        // watch streams never end on their own: closed first (each client resumes from its
        // last id elsewhere), so that the in-flight requests the server waits for can finish
        await watchers.drain();
        await stopServer();
        await background.stop();
        await db.close(DRAIN_SECONDS);
        await embedded?.stop();
        clearTimeout(timer);
        exit(0);
      };
      listen("SIGTERM", () => void drain("SIGTERM"));
      listen("SIGINT", () => void drain("SIGINT"));
    },
  };
}

/** How a boot failure is told: a configuration mistake as one line, anything else in full. */
export const bootFailure = (error: unknown) =>
  `${error instanceof ConfigError ? error.message : ((error as Error)?.stack ?? String(error))}\n`;

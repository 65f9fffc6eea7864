// Boot for Deno: the same steps as main.ts (config → database → app), served by
// Deno.serve(app.fetch); drain on SIGTERM. Keep the two in step.
//   deno task start        (deno.json; needs `bun install` or `npm install` for node_modules)
import { buildApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { connect } from "./db/client.ts";
import { type Embedded, startEmbedded } from "./db/embedded.ts";
import { createLogger } from "./log.ts";
import { devSecret, mintToken } from "./tokens.ts";

// The few Deno APIs used here, declared so the project type-checks without Deno's types.
declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { hostname: string; port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void> };
  addSignalListener(signal: "SIGTERM" | "SIGINT", handler: () => void): void;
  exit(code: number): never;
};

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

  // PGlite has a single session: one connection, so transactions never interleave.
  const db = connect(url, { ...config.db, poolMax: embedded === undefined ? config.db.poolMax : 1 });
  const app = buildApp({ config, db, log, jwtSecret: secret });
  const listening = Promise.withResolvers<string>();
  const server = Deno.serve(
    {
      port: config.port,
      hostname: config.host,
      onListen: ({ hostname, port }) =>
        listening.resolve(`http://${hostname === "0.0.0.0" ? "127.0.0.1" : hostname}:${port}`),
    },
    app.fetch,
  );
  const base = await listening.promise;
  log.info("listening", { url: base, database: embedded === undefined ? "postgres" : "embedded", runtime: "deno" });

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
    process.stdout.write(`\nDevelopment token (7 days; more with \`bun run token\`):\n${token}\n\n`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("draining", { signal });
    const timer = setTimeout(() => Deno.exit(1), DRAIN_SECONDS * 1000);
    await server.shutdown(); // stop accepting; in-flight requests finish
    await db.close(DRAIN_SECONDS);
    await embedded?.stop();
    clearTimeout(timer);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
}

main().catch((error) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error?.stack ?? error)}\n`);
  Deno.exit(1);
});

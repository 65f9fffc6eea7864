// The app served in this process on a loopback port (no child process): the integration
// tests' server and bench:ttl's, which also reach its database handle and metrics. Closed
// however the command ends (tools/cleanup.ts).
import { buildApp, serveOptions } from "../src/app.ts";
import { type Config, loadConfig } from "../src/config.ts";
import { connect, type Database } from "../src/db/client.ts";
import { createLogger } from "../src/log.ts";
import { createMetrics, type Metrics } from "../src/metrics.ts";
import { createWatchers, type Watchers } from "../src/records/watch.ts";
import { onExit } from "./cleanup.ts";

export type AppServer = {
  url: string;
  db: Database;
  config: Config;
  metrics: Metrics;
  watchers: Watchers;
  close(): Promise<void>;
};

/** `env` is read by loadConfig as the service would read it; it must hold STORAGE_JWT_SECRET. */
export async function startAppServer(databaseUrl: string, env: Record<string, string | undefined>): Promise<AppServer> {
  const config = loadConfig(env);
  const secret = config.jwt.secret;
  if (secret === undefined) throw new Error("startAppServer needs STORAGE_JWT_SECRET");
  const metrics = createMetrics();
  const db = connect(databaseUrl, { poolMax: 10, prepare: true }, metrics.observeQuery);
  const log = createLogger(config.logLevel);
  const watchers = createWatchers(db, config.watch, log, metrics.countStreamEnd);
  const app = buildApp({ config, db, log, jwtSecret: secret, metrics, watchers });
  app.listen({ port: 0, hostname: "127.0.0.1", ...serveOptions(config) });
  const server = app.server;
  if (server === null) {
    await db.close();
    throw new Error("server did not start");
  }
  let closed: Promise<void> | undefined;
  const close = () => {
    forget();
    closed ??= (async () => {
      await watchers.drain();
      await server.stop(true);
      await db.close();
    })();
    return closed;
  };
  const forget = onExit({ name: `server on port ${server.port}`, stop: close, force: () => void server.stop(true) });
  return { url: `http://127.0.0.1:${server.port}`, db, config, metrics, watchers, close };
}

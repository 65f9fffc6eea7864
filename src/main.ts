// Boot for Bun: config → database → app → listen; drain on SIGTERM. With STORAGE_WORKERS
// above 1 (src/workers.ts) this process also starts the other server processes on its port.
import { serveOptions } from "./app.ts";
import { boot, bootFailure } from "./boot.ts";
import { parseCommandLine } from "./cli/args.ts";
import { spawnWorkers, type Workers, watchPrimary, workerRole } from "./workers.ts";

parseCommandLine(
  `bun run start

Starts the service: on DATABASE_URL when set, else on the embedded database in
STORAGE_DATA_DIR. Every setting is an environment variable (README.md, Configuration);
STORAGE_WORKERS server processes share the port (one per CPU by default; the embedded
database always runs one). SIGTERM or SIGINT drains in-flight requests for up to 10 s in
every process, then exits.
`,
  {},
);

async function main() {
  const service = await boot();
  const { app, config, log, metrics } = service;
  // a promise nobody awaited that failed (a statement sent ahead of one that failed first:
  // db/client.ts, sentAhead) is a fault to fix, logged as one; it must not end a process
  // that serves every other request
  process.on("unhandledRejection", (reason) => {
    log.error("unhandled rejection", { error: reason instanceof Error ? reason.message : String(reason) });
  });
  const role = workerRole(config);
  app.listen({ port: config.port, hostname: config.host, reusePort: role.count > 1, ...serveOptions(config) });
  const server = app.server;
  if (server === null) throw new Error("the server did not start");
  if (role.socketsDir !== undefined) metrics.share(role.socketsDir, role.index);
  const base = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${server.port}`;

  let workers: Workers | undefined;
  if (role.primary) {
    // workers listen on the port this process got (PORT=0 included)
    if (role.count > 1)
      workers = spawnWorkers(role, Number(server.port), log, () => process.kill(process.pid, "SIGTERM"));
    log.info("listening", { url: base, database: service.database, workers: role.count });
    await service.announce(base);
  } else {
    watchPrimary(() => process.kill(process.pid, "SIGTERM"));
  }

  service.drainOn(
    (signal, handler) => process.on(signal, handler),
    async () => {
      // stop accepting; in-flight requests finish, here and in every worker
      const stopped = Promise.all([server.stop(false), workers?.stop()]);
      await stopped;
      metrics.unshare();
    },
    (code) => process.exit(code),
  );
}

main().catch((error) => {
  process.stderr.write(bootFailure(error));
  process.exit(1);
});

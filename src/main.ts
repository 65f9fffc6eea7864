// Boot for Bun: config → database → app → listen; drain on SIGTERM.
import { serveOptions } from "./app.ts";
import { boot, bootFailure } from "./boot.ts";
import { parseCommandLine } from "./cli/args.ts";

parseCommandLine(
  `bun run start

Starts the service: on DATABASE_URL when set, else on the embedded database in
STORAGE_DATA_DIR. Every setting is an environment variable (README.md, Configuration);
SIGTERM or SIGINT drains in-flight requests for up to 10 s, then exits.
`,
  {},
);

async function main() {
  const service = await boot();
  const { app, config, log } = service;
  app.listen({ port: config.port, hostname: config.host, ...serveOptions(config) });
  const server = app.server;
  if (server === null) throw new Error("the server did not start");
  const base = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${server.port}`;
  log.info("listening", { url: base, database: service.database });
  await service.announce(base);

  service.drainOn(
    (signal, handler) => process.on(signal, handler),
    () => server.stop(false), // stop accepting; in-flight requests finish
    (code) => process.exit(code),
  );
}

main().catch((error) => {
  process.stderr.write(bootFailure(error));
  process.exit(1);
});

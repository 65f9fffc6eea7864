// Boot for Bun: config → database → app → listen; drain on SIGTERM.
import { serveOptions } from "./app.ts";
import { boot, bootFailure, DRAIN_SECONDS } from "./boot.ts";

async function main() {
  const service = await boot();
  const { app, config, log } = service;
  app.listen({ port: config.port, hostname: config.host, ...serveOptions(config) });
  const server = app.server;
  if (server === null) throw new Error("the server did not start");
  const base = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${server.port}`;
  log.info("listening", { url: base, database: service.database });
  await service.announce(base);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("draining", { signal });
    const timer = setTimeout(() => process.exit(1), DRAIN_SECONDS * 1000);
    await server.stop(false); // stop accepting; in-flight requests finish
    await service.close();
    clearTimeout(timer);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error) => {
  process.stderr.write(bootFailure(error));
  process.exit(1);
});

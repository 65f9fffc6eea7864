// Boot for Deno: the same service as main.ts (see boot.ts), served by Deno.serve(app.fetch);
// drain on SIGTERM.
//   deno task start        (deno.json; needs `bun install` or `npm install` for node_modules)
import { boot, bootFailure } from "./boot.ts";

// The few Deno APIs used here, declared so the project type-checks without Deno's types.
declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { hostname: string; port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void> };
  addSignalListener(signal: "SIGTERM" | "SIGINT", handler: () => void): void;
  exit(code: number): never;
};

async function main() {
  const service = await boot();
  const { app, config, log } = service;
  // as in main.ts: logged as a fault, never the end of the process
  globalThis.addEventListener("unhandledrejection", (event: Event & { reason?: unknown }) => {
    event.preventDefault();
    const reason = event.reason;
    log.error("unhandled rejection", { error: reason instanceof Error ? reason.message : String(reason) });
  });
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
  log.info("listening", { url: base, database: service.database, runtime: "deno" });
  await service.announce(base);

  service.drainOn(
    (signal, handler) => Deno.addSignalListener(signal, handler),
    () => server.shutdown(), // stop accepting; in-flight requests finish
    (code) => Deno.exit(code),
  );
}

main().catch((error) => {
  process.stderr.write(bootFailure(error));
  Deno.exit(1);
});

// What a command started (a PostgreSQL cluster, a server process, a temporary folder) and
// must stop however it ends: normally, on an error, or on SIGINT / SIGTERM. Every command
// that starts something registers it here, right after starting it, and the one set of
// handlers below stops it. A graceful stop is bounded; past the bound, or when the process
// exits without one (an uncaught error), each resource's synchronous `force` runs.

export type Resource = {
  name: string;
  /** graceful stop; may be async */
  stop(): void | Promise<void>;
  /** synchronous last resort (SIGKILL, `pg_ctl stop -m immediate`); defaults to stop when that is synchronous */
  force?(): void;
};

/** How long stopping everything may take before the remaining resources are forced. */
export const STOP_BOUND_MS = 15_000;

const live: Resource[] = [];
let installed = false;
let stopping: Promise<void> | undefined;
/** the resource stopAll is waiting for (no longer in `live`) */
let current: Resource | undefined;
/** set by SIGINT / SIGTERM: the work under way fails as its resources go, and says nothing */
let interrupted = false;

/** Registers a resource; the returned function forgets it (after the caller stopped it itself). */
export function onExit(resource: Resource): () => void {
  install();
  live.push(resource);
  return () => {
    const i = live.indexOf(resource);
    if (i !== -1) live.splice(i, 1);
  };
}

/** Stops every registered resource, newest first, each within the bound; forces the rest. */
export function stopAll(boundMs = STOP_BOUND_MS): Promise<void> {
  stopping ??= (async () => {
    const deadline = Date.now() + boundMs;
    while (live.length > 0) {
      const resource = live.pop() as Resource;
      current = resource;
      const left = deadline - Date.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settled = await Promise.race([
        Promise.resolve()
          .then(() => resource.stop())
          .then(
            () => true,
            () => false,
          ),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), Math.max(0, left));
        }),
      ]);
      clearTimeout(timer);
      if (!settled) forceOne(resource);
    }
  })().finally(() => {
    current = undefined;
    stopping = undefined;
  });
  return stopping;
}

function forceOne(resource: Resource) {
  try {
    if (resource.force) resource.force();
    else void resource.stop();
  } catch {
    // the process exits anyway; nothing else can be done for this one
  }
}

function install() {
  if (installed) return;
  installed = true;
  const onSignal = (signal: "SIGINT" | "SIGTERM", code: number) => {
    process.on(signal, () => {
      if (stopping !== undefined) {
        // a second signal while stopping: force what is left and leave now
        forceRemaining();
        process.exit(code);
      }
      interrupted = true;
      process.stderr.write(`${signal}: stopping what this command started\n`);
      void stopAll().finally(() => process.exit(code));
    });
  };
  onSignal("SIGINT", 130);
  onSignal("SIGTERM", 143);
  // an uncaught error or a plain process.exit(): only synchronous work can run here
  process.on("exit", forceRemaining);
}

function forceRemaining() {
  const remaining = live.splice(0).reverse();
  if (current !== undefined) remaining.unshift(current);
  current = undefined;
  for (const resource of remaining) forceOne(resource);
}

/**
 * The body of a command: its exit code, or an error printed as one line (exit 1); whatever
 * it registered is stopped before the process exits.
 */
export async function runCommand(main: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await main();
  } catch (error) {
    if (!interrupted) process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    code = 1;
  }
  await stopAll();
  process.exit(code);
}

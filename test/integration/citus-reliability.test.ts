// A Citus node stopped under load. Installs live on one worker each; with one worker down,
// the installs on the other keep being served with no error, the installs on the stopped one
// get 503 (never a 500, never an answer later than the service's bound), and each of them
// is served again within 2 s of the worker's return. A coordinator restart: every request
// is a 2xx or a 503 within the bound, and every install is served again within 2 s of its
// return. The service runs as its own process; eight clients write and read 24 installs.
//
// Runs only when CITUS_URL names the coordinator and CITUS_WORKER_STOP / CITUS_WORKER_START
// are shell commands that stop and start one worker (CITUS_COORDINATOR_STOP /
// CITUS_COORDINATOR_START likewise for the coordinator's case); says so when skipped. The
// figures it prints are in docs/reliability.md. CITUS_SERVICE_LOG names a file to keep the
// service's log in (to find what a 500 was).
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CITUS_URL } from "../helpers/citus.ts";
import { sql } from "../helpers/db.ts";
import { client, newInstall, tokenFor } from "../helpers/server.ts";
import { type Service, startService } from "../helpers/service.ts";

const WORKER_STOP = process.env.CITUS_WORKER_STOP || undefined;
const WORKER_START = process.env.CITUS_WORKER_START || undefined;
const COORDINATOR_STOP = process.env.CITUS_COORDINATOR_STOP || undefined;
const COORDINATOR_START = process.env.CITUS_COORDINATOR_START || undefined;
const workerCase = CITUS_URL !== undefined && WORKER_STOP !== undefined && WORKER_START !== undefined;
const coordinatorCase = CITUS_URL !== undefined && COORDINATOR_STOP !== undefined && COORDINATOR_START !== undefined;
if (!workerCase) {
  process.stderr.write(
    "citus-reliability.test.ts: CITUS_URL, CITUS_WORKER_STOP and CITUS_WORKER_START are not all set, so the worker stop test is skipped\n",
  );
}
if (!coordinatorCase) {
  process.stderr.write(
    "citus-reliability.test.ts: CITUS_URL, CITUS_COORDINATOR_STOP and CITUS_COORDINATOR_START are not all set, so the coordinator restart test is skipped\n",
  );
}

// the service's transaction limit (5 s) and its outcome check (at most 3 s), with room for
// a loaded machine: no answer may take longer
const ANSWER_BOUND_MS = 9_000;
// the contract's 2 s, with room for a loaded test machine to deliver the answer
const RECOVERY_BOUND_MS = 2_500;
const INSTALLS = 24;
const CLIENTS = 8;

type Answer = { install: number; status: number; at: number; ms: number; what: string; error?: string };
type Target = { install: ReturnType<typeof newInstall>; c: ReturnType<typeof client>; node: string };

let service: Service | undefined;
const targets: Target[] = [];

beforeAll(async () => {
  if (!workerCase && !coordinatorCase) return;
  service = await startService(CITUS_URL as string);
  for (let i = 0; i < INSTALLS; i++) {
    const install = newInstall("citus-reliability");
    const c = client(service.url, await tokenFor(install));
    expect((await c.put("n", "k", { value: 0 })).status).toBe(201);
    const [row] = await sql`select p.nodename || ':' || p.nodeport as node from pg_dist_shard_placement p
      where p.shardid = get_shard_id_for_distribution_column('ext_storage_records', ${install.installId}::text)`;
    targets.push({ install, c, node: row?.node as string });
  }
}, 60_000);
afterAll(async () => {
  await service?.kill();
  if (process.env.CITUS_SERVICE_LOG && service) await Bun.write(process.env.CITUS_SERVICE_LOG, await service.stderr());
});

async function shell(command: string): Promise<void> {
  const proc = Bun.spawn(["sh", "-c", command], { stdout: "ignore", stderr: "pipe" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${command} exited ${code}: ${await new Response(proc.stderr).text()}`);
}

/** Eight clients, each over the installs in turn: a PUT then a GET, until stopped. */
function load(t0: number) {
  const answers: Answer[] = [];
  let running = true;
  const one = async (install: number, what: string, send: () => Promise<{ status: number; body?: unknown }>) => {
    const started = performance.now();
    const answer = await send().then(
      (r) => ({ status: r.status, error: (r.body as { error?: { code?: string } } | undefined)?.error?.code }),
      (e) => ({ status: 0, error: String(e) }), // no answer at all (the connection failed)
    );
    answers.push({ install, what, ...answer, at: started - t0, ms: performance.now() - started });
  };
  const clients = Array.from({ length: CLIENTS }, async (_, k) => {
    for (let n = k; running; n++) {
      const i = n % targets.length;
      const { c } = targets[i] as Target;
      await one(i, "PUT", () => c.put("n", "k", { value: n }));
      await one(i, "GET", () => c.get("n", "k"));
    }
  });
  return {
    answers,
    stop: async () => {
      running = false;
      await Promise.all(clients);
    },
  };
}

/**
 * For each install of `subset`: firstOkMs, from `back` to the end of its first 2xx started
 * after it (this depends on when a client next comes to that install), and lastFailureMs,
 * from `back` to the start of its last request not answered 2xx (0 if none started after
 * `back`): every request sent later was served.
 */
function recovery(answers: Answer[], subset: number[], back: number) {
  const firstOk = subset.map((i) => {
    const first = answers.find((a) => a.install === i && a.at >= back && a.status >= 200 && a.status < 300);
    return first === undefined ? Number.POSITIVE_INFINITY : Math.round(first.at + first.ms - back);
  });
  const lastFailure = subset.map((i) =>
    Math.round(
      Math.max(
        0,
        ...answers.filter((a) => a.install === i && (a.status < 200 || a.status >= 300)).map((a) => a.at - back),
      ),
    ),
  );
  return {
    firstOkMs: firstOk,
    lastFailureMs: lastFailure,
    max: Math.max(...firstOk),
    lastFailureMax: Math.max(...lastFailure),
  };
}

/** Until every install has had a 2xx that started after `back` (at most 10 s), then 1 s more. */
async function servedAgain(answers: Answer[], back: number) {
  const deadline = performance.now() + 10_000;
  const served = () =>
    new Set(answers.filter((a) => a.at >= back && a.status >= 200 && a.status < 300).map((a) => a.install)).size;
  while (served() < targets.length && performance.now() < deadline) await Bun.sleep(100);
  await Bun.sleep(1_000);
}

function summary(answers: Answer[]) {
  const by = (s: (a: Answer) => boolean) => answers.filter(s).length;
  return {
    requests: answers.length,
    ok: by((a) => a.status >= 200 && a.status < 300),
    unavailable: by((a) => a.status === 503),
    other: by((a) => a.status < 200 || (a.status >= 300 && a.status !== 503)),
    slowestMs: Math.round(Math.max(0, ...answers.map((a) => a.ms))),
    medianMs: Math.round([...answers].sort((a, b) => a.ms - b.ms)[Math.floor(answers.length / 2)]?.ms ?? 0),
    others: answers
      .filter((a) => a.status < 200 || (a.status >= 300 && a.status !== 503))
      .map((a) => `${a.what} ${a.status} ${a.error ?? ""} at ${Math.round(a.at)} ms`),
  };
}

describe("Citus node stops under load", () => {
  (workerCase ? test : test.skip)(
    "a stopped worker: the other's installs see no error, its own get 503 and are back within 2 s",
    async () => {
      const t0 = performance.now();
      const run = load(t0);
      await Bun.sleep(1_500);
      const stoppedAt = performance.now() - t0;
      await shell(WORKER_STOP as string);
      // the worker that no longer answers
      const nodes = [...new Set(targets.map((t) => t.node))];
      const down: string[] = [];
      for (const node of nodes) {
        const [host, port] = node.split(":");
        const probe = Bun.connect({ hostname: host as string, port: Number(port), socket: { data() {} } });
        await probe.then(
          (s) => s.end(),
          () => down.push(node),
        );
      }
      expect(down.length).toBe(1);
      await Bun.sleep(5_000);
      await shell(WORKER_START as string);
      const back = performance.now() - t0;
      await servedAgain(run.answers, back);
      await run.stop();

      const onStopped = targets.flatMap((t, i) => (t.node === down[0] ? [i] : []));
      const elsewhere = run.answers.filter((a) => !onStopped.includes(a.install));
      const stopped = run.answers.filter((a) => onStopped.includes(a.install));
      const during = stopped.filter((a) => a.at >= stoppedAt && a.at < back);
      const recovered = recovery(run.answers, onStopped, back);
      const figures = {
        stoppedWorker: down[0],
        installsOnIt: onStopped.length,
        otherInstalls: summary(elsewhere),
        itsInstalls: summary(stopped),
        itsInstallsWhileDown: summary(during),
        itsInstallsAfterReturn: summary(stopped.filter((a) => a.at >= back)),
        recovery: recovered,
      };
      process.stderr.write(`citus worker stop: ${JSON.stringify(figures)}\n`);

      expect(onStopped.length).toBeGreaterThan(0);
      expect(onStopped.length).toBeLessThan(targets.length);
      // the other worker's installs: every answer a 2xx
      expect(summary(elsewhere).other + summary(elsewhere).unavailable).toBe(0);
      // the stopped worker's: 2xx or 503 only, none past the bound, and 503s while it was down
      expect(summary(stopped).other).toBe(0);
      expect(summary(run.answers).slowestMs).toBeLessThan(ANSWER_BOUND_MS);
      expect(summary(during).unavailable).toBeGreaterThan(0);
      // every install served again after the return, and nothing refused once 2 s had passed
      expect(recovered.max).toBeLessThan(Number.POSITIVE_INFINITY);
      expect(recovered.lastFailureMax).toBeLessThan(RECOVERY_BOUND_MS);
    },
    60_000,
  );

  (coordinatorCase ? test : test.skip)(
    "a coordinator restart: 2xx or 503 within the bound, every install back within 2 s",
    async () => {
      const t0 = performance.now();
      const run = load(t0);
      await Bun.sleep(1_500);
      const stoppedAt = performance.now() - t0;
      await shell(COORDINATOR_STOP as string);
      await Bun.sleep(3_000);
      await shell(COORDINATOR_START as string);
      const back = performance.now() - t0;
      await servedAgain(run.answers, back);
      await run.stop();

      const all = targets.map((_, i) => i);
      const during = run.answers.filter((a) => a.at >= stoppedAt && a.at < back);
      const recovered = recovery(run.answers, all, back);
      const figures = {
        all: summary(run.answers),
        whileDown: summary(during),
        afterReturn: summary(run.answers.filter((a) => a.at >= back)),
        recovery: recovered,
      };
      process.stderr.write(`citus coordinator restart: ${JSON.stringify(figures)}\n`);

      expect(summary(run.answers).other).toBe(0);
      expect(summary(run.answers).slowestMs).toBeLessThan(ANSWER_BOUND_MS);
      expect(summary(during).unavailable).toBeGreaterThan(0);
      // every install served again after the return, and nothing refused once 2 s had passed
      expect(recovered.max).toBeLessThan(Number.POSITIVE_INFINITY);
      expect(recovered.lastFailureMax).toBeLessThan(RECOVERY_BOUND_MS);
    },
    60_000,
  );
});

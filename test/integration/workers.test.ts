// STORAGE_WORKERS: server processes on one port (src/workers.ts). Two processes serve the
// same port, /metrics sums both wherever it is answered, SIGTERM to the one started drains
// and stops both, and a worker whose primary is killed stops by itself.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dbmate } from "../../src/db/migrate.ts";
import { type FreshDatabase, freshDatabase } from "../helpers/databases.ts";
import { client, newInstall, tokenFor } from "../helpers/server.ts";
import { startService, until } from "../helpers/service.ts";

let db: FreshDatabase;
beforeAll(async () => {
  db = await freshDatabase("workers");
  const migrated = await dbmate(db.url, ["up"]);
  if (migrated.code !== 0) throw new Error(migrated.output);
});
afterAll(() => db?.drop());

/** The pids of the processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const text = (() => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8");
    } catch {
      return "";
    }
  })();
  return text.split(/\s+/).filter(Boolean).map(Number);
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** A counter's value in Prometheus text, summed over the lines that name it with `labels`. */
function counter(text: string, name: string, labels: string): number {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

test("two workers share the port; /metrics sums both; SIGTERM drains both", async () => {
  const service = await startService(db.url, { STORAGE_WORKERS: "2" });
  try {
    const [worker] = childrenOf(service.pid);
    expect(worker).toBeDefined();
    // where each process serves its own metrics: the worker was told in its environment
    const environ = readFileSync(`/proc/${worker}/environ`, "utf8").split("\0");
    const dir = environ.find((v) => v.startsWith("STORAGE_WORKER_SOCKETS="))?.split("=")[1] as string;
    await until(
      "both processes to listen",
      async () => readdirSync(dir).filter((f) => f.endsWith(".sock")).length === 2,
      20_000,
    );
    const install = newInstall("workers");
    const api = client(service.url, await tokenFor(install));
    expect((await api.put("n", "k", { value: 1 })).status).toBe(201);

    const N = 60;
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${service.url}/v1/namespaces/n/records/k`, {
        headers: { authorization: `Bearer ${await tokenFor(install)}`, connection: "close" },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    // each process counts its own requests; every /metrics answer, whichever process gives
    // it, has the sum of both and says both reported
    for (let i = 0; i < 10; i++) {
      const text = await (await fetch(`${service.url}/metrics`, { headers: { connection: "close" } })).text();
      expect(text).toContain("storage_workers_reporting 2");
      expect(
        counter(text, "http_request_duration_seconds_count", 'method="GET",status_class="2xx"'),
      ).toBeGreaterThanOrEqual(N);
    }
    // each process served some of the N connections (each its own, kernel-spread)
    for (const socket of readdirSync(dir)) {
      const own = (await (await fetch("http://worker/", { unix: join(dir, socket) } as RequestInit)).json()) as {
        name: string;
        values: { labels: Record<string, string>; value: number; metricName?: string }[];
      }[];
      const served = own
        .find((m) => m.name === "http_request_duration_seconds")
        ?.values.filter((v) => v.metricName === "http_request_duration_seconds_count" && v.labels.method === "GET")
        .reduce((sum, v) => sum + v.value, 0);
      expect({ socket, served: (served ?? 0) > 0 }).toEqual({ socket, served: true });
    }
    // the queries of both processes are in the sum: each ran its share of the N reads
    const text = await (await fetch(`${service.url}/metrics`)).text();
    expect(counter(text, "db_query_duration_seconds_count", 'query="records.get"')).toBeGreaterThanOrEqual(N);

    await service.kill("SIGTERM");
    await until("the worker to exit after the drain", async () => !alive(worker as number), 15_000);
  } finally {
    if (service.alive()) await service.kill("SIGKILL");
  }
}, 60_000);

test("a worker whose primary is killed stops by itself", async () => {
  const service = await startService(db.url, { STORAGE_WORKERS: "2" });
  const [worker] = childrenOf(service.pid);
  expect(worker).toBeDefined();
  await service.kill("SIGKILL");
  await until("the orphaned worker to exit", async () => !alive(worker as number), 15_000);
}, 60_000);

// The service process killed with SIGKILL while clients send bulk-puts: each bulk is in the
// database whole or not at all, every acknowledged one is whole, and usage has no drift
// (`bun run db:reconcile` exits 0). Two kills, the service started again in between.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dbmate } from "../../src/db/migrate.ts";
import { type FreshDatabase, freshDatabase, runScript } from "../helpers/databases.ts";
import { newInstall, tokenFor } from "../helpers/server.ts";
import { startService } from "../helpers/service.ts";

const CLIENTS = 6;
const OWN_KEYS = 10;
const SHARED = ["s0", "s1", "s2", "s3", "s4"];

let db: FreshDatabase;
beforeAll(async () => {
  db = await freshDatabase("faults_sigkill");
  const migrated = await dbmate(db.url, ["up"]);
  if (migrated.code !== 0) throw new Error(migrated.output);
});
afterAll(() => db?.drop());

test("SIGKILL during concurrent bulk-puts: every bulk whole or absent, usage exact", async () => {
  const install = newInstall("sigkill");
  const token = await tokenFor(install);
  const attempted = new Set<number>();
  const acked = new Set<number>();
  let next = 0;
  let inFlightAtKill = 0;

  for (const killAfterMs of [700, 450]) {
    const service = await startService(db.url);
    let inFlight = 0;
    const client = async () => {
      for (let i = 0; i < 10_000 && service.alive(); i++) {
        const n = next++;
        const items = [
          ...Array.from({ length: OWN_KEYS }, (_, j) => ({ key: `b${n}-${j}`, value: n })),
          ...SHARED.map((key) => ({ key, value: n })),
        ];
        attempted.add(n);
        inFlight++;
        try {
          const res = await fetch(`${service.url}/v1/namespaces/kill/bulk-put`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ items: n % 2 === 0 ? items : items.reverse() }),
            signal: AbortSignal.timeout(5000),
          });
          if (res.status === 200) acked.add(n);
          else expect(res.status).toBe(503);
        } catch {
          // the process is gone: this bulk's fate is what the database says
        } finally {
          inFlight--;
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await Bun.sleep(killAfterMs);
    inFlightAtKill += inFlight;
    expect(await service.kill("SIGKILL")).not.toBe(0);
    await Promise.all(clients);
  }

  const rows = await db.sql<{ key: string; value: number }[]>`
    select key, value from ext_storage_records where install_id = ${install.installId} and namespace = 'kill'`;
  const byBulk = new Map<number, number[]>();
  const shared = new Map<string, number>();
  for (const row of rows) {
    if (row.key.startsWith("s")) shared.set(row.key, row.value);
    else {
      const n = Number(row.key.slice(1, row.key.indexOf("-")));
      byBulk.set(n, [...(byBulk.get(n) ?? []), row.value]);
    }
  }
  const half = [...attempted].filter((n) => ![0, OWN_KEYS].includes(byBulk.get(n)?.length ?? 0));
  const wrongValues = [...byBulk].filter(([n, values]) => values.some((v) => v !== n));
  const lost = [...acked].filter((n) => (byBulk.get(n)?.length ?? 0) !== OWN_KEYS);
  const applied = [...attempted].filter((n) => byBulk.has(n)).length;
  const reconcile = await runScript("db:reconcile", [], db.url);
  console.log(
    `faults (SIGKILL): 2 kills, ${attempted.size} bulk-puts attempted, ${acked.size} acknowledged, ${applied} applied ` +
      `whole, ${attempted.size - applied} absent, ${half.length} half-applied, ${lost.length} acknowledged but lost; ` +
      `${inFlightAtKill} in flight at the kills; db:reconcile: ${reconcile.stdout.trim()}`,
  );
  expect(half).toEqual([]);
  expect(wrongValues).toEqual([]);
  expect(lost).toEqual([]);
  expect(inFlightAtKill).toBeGreaterThan(0);
  expect(acked.size).toBeGreaterThan(0);
  // the shared keys all carry one bulk's value, and that bulk is whole
  const sharedValues = new Set(shared.values());
  expect([shared.size, sharedValues.size]).toEqual([SHARED.length, 1]);
  expect(byBulk.get([...sharedValues][0] as number)?.length).toBe(OWN_KEYS);
  expect(reconcile.code).toBe(0);
}, 60_000);

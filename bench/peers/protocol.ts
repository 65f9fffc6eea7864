// DATABASE_URL=postgres://… bun bench/peers/protocol.ts [--file sql/transactions/identity.sql] [--calls N] [--rounds R]
//
// What a statement without parameters costs sent as a simple query (parsed and planned on
// every call: postgres.js's default for such a statement) against prepared once (what
// src/db/client.ts asks for): the backend's CPU (utime + stime of its process in /proc) and
// this process's CPU, per call, N calls 50 at a time on one connection, after a warm-up of
// the same size; rounds alternate the two. Loopback only; the database must be on this
// machine (its backend's /proc entry is read).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { cpuSeconds } from "../load/server.ts";

const { values } = parseArgs({
  options: {
    file: { type: "string", default: "sql/transactions/identity.sql" },
    calls: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
  },
});
const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL must name a PostgreSQL on this machine");
  process.exit(2);
}
const text = readFileSync(values.file as string, "utf8");
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
const IN_FLIGHT = 50;

for (let round = 1; round <= ROUNDS; round++) {
  for (const simple of [true, false]) {
    const sql = postgres(url, { max: 1, prepare: true, onnotice: () => {} });
    const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    const pid = row?.pid as number;
    const run = async () => {
      for (let i = 0; i < CALLS; i += IN_FLIGHT) {
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, () =>
            sql.unsafe(text, [], { prepare: true, simple } as postgres.UnsafeQueryOptions).execute(),
          ),
        );
      }
    };
    await run();
    const backend = cpuSeconds(pid);
    const client = process.cpuUsage();
    await run();
    const backendUs = ((cpuSeconds(pid) - backend) * 1e6) / CALLS;
    const used = process.cpuUsage(client);
    const clientUs = (used.user + used.system) / CALLS;
    console.log(
      `round ${round} ${simple ? "simple query" : "prepared   "}: backend ${backendUs.toFixed(1)} µs/call, client ${clientUs.toFixed(1)} µs/call`,
    );
    await sql.end();
  }
}

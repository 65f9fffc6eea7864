// A pooled connection whose database went away while it sat idle (a restart, a failover, a
// proxy that dropped it) is learnt dead only when a transaction sends on it. Nothing of that
// try reached the database, so the transaction is tried once more, on another connection,
// instead of answering 503.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { connect } from "../../src/db/client.ts";
import { startPgProxy } from "../helpers/pg-proxy.ts";

const proxy = startPgProxy(process.env.DATABASE_URL as string);
const db = connect(proxy.url, { poolMax: 2, prepare: true });
afterAll(async () => {
  await db.close(1);
  proxy.stop();
});

test("a transaction whose pooled connection died while idle runs on a fresh one", async () => {
  const backend = () =>
    db.transaction(async (q) => {
      const [row] = await q.run<{ pid: number }>("transactions.identity", []);
      return row?.pid;
    });
  const first = await backend();
  proxy.cutIdle();
  const second = await backend();
  expect(second).toBeNumber();
  expect(second).not.toBe(first);
});

test("a database that is gone still fails the transaction, once retried", async () => {
  const gone = startPgProxy(process.env.DATABASE_URL as string);
  const lost = connect(gone.url, { poolMax: 1, prepare: true });
  try {
    await lost.transaction((q) => q.run("transactions.identity", []));
    gone.stop(); // no new connection is accepted any more
    gone.cutIdle();
    await expect(lost.transaction((q) => q.run("transactions.identity", []))).rejects.toMatchObject({
      code: expect.stringMatching(/CONNECTION_CLOSED|ECONNREFUSED|ECONNRESET|CONNECTION_ENDED/),
    });
  } finally {
    await lost.close(1);
  }
});

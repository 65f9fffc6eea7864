// records.delete goes out with COMMIT (no round trip between them), so the service cannot
// check what it deleted before committing: the statement checks itself, and a delete of
// other rows than the plan read (a row gone, or of another size) fails and rolls the whole
// transaction back, COMMIT included.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { connect } from "../../src/db/client.ts";
import { expectUsageExact, storedRows } from "../helpers/db.ts";
import { client, newInstall, startServer, tokenFor } from "../helpers/server.ts";

const db = connect(process.env.DATABASE_URL as string, { poolMax: 2, prepare: true });
const server = await startServer();
afterAll(async () => {
  await server.close();
  await db.close();
});

test("records.delete rolls the write back unless it deleted exactly the rows and bytes planned", async () => {
  const install = newInstall("delcheck");
  const c = client(server.url, await tokenFor(install));
  const put = await c.put("n", "k", { value: { a: 1 } });
  expect(put.status).toBe(201);
  const [row] = await db.run<{ size_bytes: number }>("records.state", [
    install.installId,
    install.tenantId,
    ["n"],
    ["k"],
  ]);
  const size = row?.size_bytes as number;
  const deleteIn = (keys: string[], bytes: number) =>
    db.transaction(async (q) => {
      const deleting = q.run("records.delete", [
        install.installId,
        install.tenantId,
        keys.map(() => "n"),
        keys,
        keys.map((_, i) => put.body.revision + 1 + i),
        keys.map(() => false),
        bytes,
      ]);
      deleting.catch(() => {});
      q.commit();
      return deleting;
    });

  // a key that is not stored, and a size other than the stored one: refused, nothing deleted
  await expect(deleteIn(["k", "missing"], size)).rejects.toThrow(/records.delete deleted 1 rows of \d+ bytes/);
  await expect(deleteIn(["k"], size + 1)).rejects.toThrow(/where the plan read 1 of/);
  expect(await storedRows(install.installId, "n")).toBe(1);
  expect((await c.get("n", "k")).status).toBe(200);

  // as planned: deleted and committed (and accounted, as the write pipeline does, so the
  // install's usage stays exact for db:reconcile)
  expect(await deleteIn(["k"], size)).toEqual([{ namespace: "n", key: "k", size_bytes: size }]);
  expect(await storedRows(install.installId, "n")).toBe(0);
  await db.run("installs.account", [install.installId, install.tenantId, -size, -1, put.body.revision + 1]);
  await expectUsageExact(install.installId, expect);
});

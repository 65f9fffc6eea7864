// dbmate up → down → up on a fresh database leaves the schema committed in db/schema.sql,
// and down leaves nothing of ours behind.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { comparableDump, DBMATE, MIGRATIONS_DIR, migrationVersions } from "../../src/db/migrate.ts";

const base = new URL(process.env.DATABASE_URL as string);
const database = `migration_check_${process.pid}`;
const url = Object.assign(new URL(base), { pathname: `/${database}` }).toString();
const dir = mkdtempSync(join(tmpdir(), "ext-storage-schema-"));
const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });

afterAll(async () => {
  await admin.unsafe(`drop database if exists ${database} with (force)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

async function dbmate(command: string, schemaFile: string) {
  const proc = Bun.spawn(
    [DBMATE, "--url", url, "--migrations-dir", MIGRATIONS_DIR, "--schema-file", schemaFile, command],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  expect({ command, code, err }).toEqual({ command, code: 0, err: "" });
  return out;
}

test("up → down (every migration) → up leaves the committed db/schema.sql, and down leaves nothing", async () => {
  const [up1, down, up2] = ["up1.sql", "down.sql", "up2.sql"].map((f) => join(dir, f)) as [string, string, string];
  await dbmate("up", up1);
  for (const _ of migrationVersions()) await dbmate("rollback", down);
  await dbmate("up", up2);
  const committed = readFileSync(fileURLToPath(new URL("../../db/schema.sql", import.meta.url)), "utf8");
  expect(comparableDump(readFileSync(up1, "utf8"))).toBe(committed);
  expect(comparableDump(readFileSync(up2, "utf8"))).toBe(committed);
  const afterDown = readFileSync(down, "utf8");
  expect(afterDown).not.toContain("ext_storage");
  expect(afterDown).not.toMatch(/INSERT INTO public.schema_migrations/);
  expect(afterDown).toContain("schema_migrations");
});

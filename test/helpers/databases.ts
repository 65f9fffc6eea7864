// A fresh, empty database per test on the test server, dropped afterwards, and the db:*
// commands run the way an operator runs them (`bun run db:…`).
import "./test-database.ts";
import postgres from "postgres";
import { dbmate } from "../../src/db/migrate.ts";
import { type Service, startService } from "./service.ts";

const base = new URL(process.env.DATABASE_URL as string);
let counter = 0;

export type FreshDatabase = { name: string; url: string; sql: postgres.Sql; drop(): Promise<void> };

export async function freshDatabase(label: string): Promise<FreshDatabase> {
  const name = `${label}_${process.pid}_${counter++}`;
  const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = Object.assign(new URL(base), { pathname: `/${name}` }).toString();
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 1 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export type CommandResult = { code: number; stdout: string; stderr: string };

/** `bun run <script> <args>` from the project root, with the given DATABASE_URL. */
export function runScript(script: string, args: string[], databaseUrl: string): Promise<CommandResult> {
  return runIn(["bun", "run", "--silent", script, ...args], { DATABASE_URL: databaseUrl });
}

/** A command from the project root, with the test run's environment plus `env`; its exit and output. */
export async function runIn(argv: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  const proc = Bun.spawn(argv, {
    cwd: new URL("../../", import.meta.url).pathname,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  return { code, stdout, stderr };
}

/** The JSON record a db:migrate / db:rollback / --json run prints on stdout. */
// biome-ignore lint/suspicious/noExplicitAny: records are checked field by field
export const json = (result: CommandResult): any => JSON.parse(result.stdout);

/** The service as its own process on a fresh migrated database, and an admin connection to
 * the test server (to end the service's backends): for the tests that kill connections under
 * load. `stop` ends all three. */
export type KillableService = { db: FreshDatabase; service: Service; admin: postgres.Sql; stop(): Promise<void> };

export async function killableService(label: string, env: Record<string, string>): Promise<KillableService> {
  const db = await freshDatabase(label);
  const migrated = await dbmate(db.url, ["up"]);
  if (migrated.code !== 0) throw new Error(migrated.output);
  const service = await startService(db.url, env);
  const admin = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
  return {
    db,
    service,
    admin,
    async stop() {
      await service.kill();
      await admin.end();
      await db.drop();
    },
  };
}

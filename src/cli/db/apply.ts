// db:migrate and db:rollback: dbmate for an ordinary run, the statement-by-statement careful
// run with --safe. Either way the last thing printed on stdout is the execution record, as
// JSON: what was applied or rolled back, when, and (with --safe) every statement's lock wait.
import { dbmate } from "../../db/migrate.ts";
import { appliedVersions, describeUrl, withAdminConnection } from "../../ops/connection.ts";
import { runSafe, SAFE_DEFAULTS } from "../../ops/safe-migrate.ts";
import { rollbackRisk } from "../../ops/status.ts";
import { parseCommandLine } from "../args.ts";
import { count, databaseUrl, duration, printJson } from "./common.ts";

const SAFE_FLAGS = `  --safe                   each statement on its own, bounded, with a lock preflight and retries
  --lock-timeout D         with --safe: lock_timeout of each statement (default 2s)
  --statement-timeout D    with --safe: statement_timeout of each statement (default 60s)
  --retries N              with --safe: tries after a lock timeout (default 3)
  --backoff D              with --safe: wait before the first retry, doubling (default 1s)
  --url URL                the database (default: DATABASE_URL)`;

export const USAGE = {
  up: `bun run db:migrate [--safe] [--lock-timeout 2s] [--statement-timeout 60s] [--retries 3] [--backoff 1s] [--url URL]

Applies every pending migration of db/migrations and prints the execution record (JSON).

${SAFE_FLAGS}
`,
  down: `bun run db:rollback [--force] [--safe …] [--url URL]

Rolls back the newest applied migration and prints the execution record (JSON). Refuses
(exit 3) when that migration drops tables that hold rows, unless --force.

  --force                  roll back even though it drops tables holding rows
${SAFE_FLAGS}
`,
};

export async function apply(direction: "up" | "down", argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    USAGE[direction],
    {
      url: { type: "string" },
      safe: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      "lock-timeout": { type: "string" },
      "statement-timeout": { type: "string" },
      retries: { type: "string" },
      backoff: { type: "string" },
    },
    { argv },
  );
  const url = databaseUrl(values.url);
  const command = direction === "up" ? "migrate" : "rollback";

  // The rollout plan allows dropping data only before it is onboarded: a rollback that
  // drops tables holding rows needs --force; one that drops a function or an index does not.
  if (direction === "down" && !values.force) {
    const risk = await rollbackRisk(url);
    if (risk.tablesWithRows.length > 0) {
      process.stderr.write(
        `refusing to roll back ${risk.file}: it drops tables that hold rows ` +
          `(${risk.tablesWithRows.map((t) => `${t} holds rows`).join(", ")}).\n` +
          "Prefer a forward fix; if the data may really go, run again with --force.\n",
      );
      return 3;
    }
  }

  if (values.safe) {
    const record = await runSafe(url, {
      direction,
      lockTimeoutMs: duration("lock-timeout", values["lock-timeout"], SAFE_DEFAULTS.lockTimeoutMs),
      statementTimeoutMs: duration("statement-timeout", values["statement-timeout"], SAFE_DEFAULTS.statementTimeoutMs),
      retries: count("retries", values.retries, SAFE_DEFAULTS.retries, 10),
      backoffMs: duration("backoff", values.backoff, SAFE_DEFAULTS.backoffMs),
      pollMs: SAFE_DEFAULTS.pollMs,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    printJson(record);
    if (!record.ok) process.stderr.write(`${command} failed: ${record.error}\n`);
    return record.ok ? 0 : 1;
  }

  const startedAt = new Date().toISOString();
  const before = await versionsOf(url);
  const result = await dbmate(url, [direction === "up" ? "migrate" : "rollback"]);
  process.stderr.write(result.output);
  const after = await versionsOf(url);
  const changed =
    direction === "up" ? after.filter((v) => !before.includes(v)) : before.filter((v) => !after.includes(v));
  printJson({
    command,
    safe: false,
    database: describeUrl(url),
    startedAt,
    finishedAt: new Date().toISOString(),
    versions: changed,
    ok: result.code === 0,
    // the record says why, not only that it failed: dbmate's last line names the cause
    ...(result.code === 0 ? {} : { error: `dbmate exited with ${result.code}: ${lastLine(result.output)}` }),
  });
  return result.code === 0 ? 0 : 1;
}

const versionsOf = (url: string) => withAdminConnection(url, "migrate", appliedVersions);

function lastLine(output: string): string {
  return output.trim().split("\n").at(-1)?.trim() || "no output";
}

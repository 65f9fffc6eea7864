// db:migrate and db:rollback: dbmate for an ordinary run, the statement-by-statement careful
// run with --safe. Either way the last thing printed on stdout is the execution record, as
// JSON: what was applied or rolled back, when, and (with --safe) every statement's lock wait.
import { parseArgs } from "node:util";
import postgres from "postgres";
import { dbmate } from "../../db/migrate.ts";
import { describeUrl, runSafe, SAFE_DEFAULTS } from "../../db/safe-migrate.ts";
import { appliedVersions, recordsPresent } from "../../db/status.ts";
import { count, databaseUrl, duration, printJson } from "./common.ts";

export async function apply(direction: "up" | "down", argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      safe: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      "lock-timeout": { type: "string" },
      "statement-timeout": { type: "string" },
      retries: { type: "string" },
      backoff: { type: "string" },
    },
    strict: true,
  });
  const url = databaseUrl(values.url);
  const command = direction === "up" ? "migrate" : "rollback";

  // The rollout plan allows a down migration only before data is onboarded.
  if (direction === "down" && !values.force && (await recordsPresent(url))) {
    process.stderr.write(
      "refusing to roll back: ext_storage_records holds rows, and rolling back drops them.\n" +
        "Prefer a forward fix; if the data may really go, run again with --force.\n",
    );
    return 3;
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
    ...(result.code === 0 ? {} : { error: `dbmate exited with ${result.code}` }),
  });
  return result.code === 0 ? 0 : 1;
}

async function versionsOf(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await appliedVersions(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

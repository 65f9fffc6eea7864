// What the db:* commands share: the database URL, durations on the command line, exits.
import { basename } from "node:path";
import { loadConfig } from "../../config.ts";
import { usageError } from "../args.ts";

/** --url, else DATABASE_URL; these commands never touch the embedded database. */
export function databaseUrl(flag: string | undefined): string {
  let configured: string | undefined;
  try {
    configured = loadConfig().databaseUrl;
  } catch (error) {
    usageError((error as Error).message);
  }
  const url = flag ?? configured;
  if (url === undefined) usage("DATABASE_URL is not set (or pass --url postgres://…)");
  return url;
}

/** "2s", "1500ms", "1m" or a bare number of milliseconds. */
export function duration(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (m === null) usage(`--${name} must be a duration such as 2s, 500ms or 1m, got "${raw}"`);
  const unit = { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? "ms") as "ms" | "s" | "m"];
  return Math.round(Number(m[1]) * unit);
}

export function count(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) usage(`--${name} must be an integer from 0 to ${max}, got "${raw}"`);
  return n;
}

export function usage(message: string): never {
  return usageError(message);
}

export const printJson = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

// A database that cannot be reached (a closed port, a name that does not resolve, a URL that
// is not one) ends every db:* command with one line naming the command and the cause, exit 1,
// never a stack trace.
const command = `db:${basename(process.argv[1] ?? "command").replace(/\.ts$/, "")}`;
const failed = (error: unknown) => {
  console.error(`${command} failed: ${(error as Error)?.message ?? String(error)}`);
  process.exit(1);
};
process.on("uncaughtException", failed);
process.on("unhandledRejection", failed);

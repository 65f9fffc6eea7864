// Structured JSON logs, one line per event, on stderr. Never values, keys or tokens.
import { createHash } from "node:crypto";
import type { Config } from "./config.ts";

/** A tenant or install as logs name it: a short hash, so logs never carry the id itself. */
export const idHash = (id: string) => createHash("sha256").update(id).digest("base64url").slice(0, 12);

const ORDER = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
type Level = Exclude<Config["logLevel"], "silent">;

export type Logger = Record<Level, (msg: string, fields?: Record<string, unknown>) => void>;

export function createLogger(
  level: Config["logLevel"],
  write: (line: string) => unknown = (line) => process.stderr.write(line),
): Logger {
  const at = (l: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[l] < ORDER[level]) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...fields })}\n`);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

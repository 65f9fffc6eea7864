// Structured JSON logs, one line per event, on stderr. Never values, keys or tokens.
import { createHash } from "node:crypto";
import { BoundedMap } from "./bounded-map.ts";
import type { Config } from "./config.ts";

/** A tenant or install as logs name it: a short hash, so logs never carry the id itself.
 * Remembered for the ids a busy instance sees: two SHA-256 per logged request otherwise. */
const hashes = new BoundedMap<string, string>(10_000);
export const idHash = (id: string) => {
  let hash = hashes.get(id);
  if (hash === undefined) {
    hash = createHash("sha256").update(id).digest("base64url").slice(0, 12);
    hashes.set(id, hash);
  }
  return hash;
};

const ORDER = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
type Level = Exclude<Config["logLevel"], "silent">;

export type Logger = Record<Level, (msg: string, fields?: Record<string, unknown>) => void>;

/**
 * Lines for stderr, written together at most BATCH_MS after the first of them (at once past
 * BATCH_BYTES, and at exit): with one write per request the event loop spent a tenth of its
 * time in stderr writes under the bench:peers GET loop (`bun --cpu-prof` samples wall time,
 * and a write to a pipe whose reader is busy waits), 1 % batched. In CPU time the request
 * log costs too little to measure either way (bench/README.md, issue 13, 2026-11-30).
 */
export function batchedStderr(out: (text: string) => unknown = (text) => process.stderr.write(text)) {
  const BATCH_MS = 20;
  const BATCH_BYTES = 64 * 1024;
  let pending: string[] = [];
  let bytes = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.length === 1 ? (pending[0] as string) : pending.join("");
    pending = [];
    bytes = 0;
    out(text);
  };
  process.on("exit", flush);
  return (line: string) => {
    pending.push(line);
    bytes += line.length;
    if (bytes >= BATCH_BYTES) flush();
    else if (!scheduled) {
      scheduled = true;
      setTimeout(flush, BATCH_MS).unref();
    }
  };
}

let stderrLines: ((line: string) => void) | undefined;
const toStderr = (line: string) => {
  stderrLines ??= batchedStderr();
  stderrLines(line);
};

export function createLogger(level: Config["logLevel"], write: (line: string) => unknown = toStderr): Logger {
  const at = (l: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[l] < ORDER[level]) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...fields })}\n`);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

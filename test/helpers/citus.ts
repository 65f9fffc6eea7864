// Tests that need a Citus cluster run only when CITUS_URL names its coordinator (the test
// database helper then points the whole run at it); without it they are skipped, and say so
// once.
import { test } from "bun:test";

export const CITUS_URL = process.env.CITUS_URL || undefined;

export const citusTest = CITUS_URL === undefined ? test.skip : test;

export function noteCitusSkipped(file: string) {
  if (CITUS_URL === undefined) process.stderr.write(`${file}: CITUS_URL is not set, so the Citus tests are skipped\n`);
}

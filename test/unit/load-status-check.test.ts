// The load scenarios whose every request a correct server accepts fail on any 4xx (a 429
// is a wrong answer, not a latency); overload (timeouts, 503, other 5xx) is left to the
// error budget.
import { expect, test } from "bun:test";
import { Recorder } from "../../bench/load/recorder.ts";
import { noUnexpectedStatus } from "../../bench/load/scenarios/context.ts";

const recorded = (codes: (string | undefined)[]) => {
  const recorder = new Recorder(0, () => "read");
  for (const code of codes) recorder.record("get", 0, 1, code);
  return noUnexpectedStatus(recorder);
};

test("a 4xx fails the check and is named with its count", () => {
  const check = recorded([undefined, "RATE_LIMITED", "RATE_LIMITED", "NOT_FOUND", "TIMEOUT"]);
  expect(check.ok).toBe(false);
  expect(check.detail).toContain("2 × RATE_LIMITED");
  expect(check.detail).toContain("1 × NOT_FOUND");
  expect(check.detail).not.toContain("TIMEOUT");
});

test("overload and successes pass it", () => {
  expect(recorded([undefined, "TIMEOUT", "NETWORK", "UNAVAILABLE", "INTERNAL", "HTTP_502"]).ok).toBe(true);
});

// What every sub-scenario gets, and what it hands back besides the recorder's samples.
import { mintToken } from "../../../src/tokens.ts";
import type { Fixture, Install } from "../data.ts";
import type { Recorder } from "../recorder.ts";
import type { Target } from "../server.ts";

export type ScenarioOptions = {
  seed: number;
  prefix: string;
  tenants: number;
  installsPerTenant: number;
  /** installs that take part (the first n of the population) */
  installs: number;
  ratePerInstallPerMin: number;
  durationSec: number;
  warmupSec: number;
  maxInFlight: number;
  keysPerNamespace: number;
  /** share (0–1) of crud-mix operations sent as one /v1/atomic request (default 0) */
  atomicShare: number;
  /** ops in each /v1/atomic request: a merge and atomicOps − 1 increments (default 2) */
  atomicOps: number;
  scanRecords: number;
  walkRatePerSec: number;
  bulkBatch: number;
  bulkInstalls: number;
};

export type Check = { name: string; ok: boolean; detail: string };

export type ScenarioResult = {
  /** the rate the scenario offered, ops/s (undefined for closed-loop chains) */
  offeredOpsPerSec: number | undefined;
  measuredMs: number;
  checks: Check[];
  /** operations per install id, for the shard distribution */
  opsByInstall: Map<string, number>;
  /** the scenario cannot run against this server (reason given) */
  skipped?: string;
};

export type ScenarioContext = {
  target: Target;
  options: ScenarioOptions;
  fixtures: Fixture[];
  recorder: Recorder;
  token(install: Install): Promise<string>;
  shouldStop(): boolean;
};

/** Answers that count against the error budget: the server overloaded, slow or gone. */
const OVERLOAD = new Set(["TIMEOUT", "NETWORK", "UNAVAILABLE", "INTERNAL"]);

/**
 * A sub-scenario whose every request a correct server answers 2xx fails on any 4xx (a
 * RATE_LIMITED, a NOT_FOUND): that is a wrong answer, not load, and the run must not report
 * its latency as a result. Overload (timeouts, 503, 5xx) is what the error budget judges.
 */
export function noUnexpectedStatus(recorder: Recorder): Check {
  const wrong = Object.entries(recorder.errorsByCode()).filter(
    ([code]) => !OVERLOAD.has(code) && !/^HTTP_5\d\d$/.test(code),
  );
  return {
    name: "no 4xx answers (every request is one a correct server accepts)",
    ok: wrong.length === 0,
    detail: wrong.length === 0 ? "none" : wrong.map(([code, n]) => `${n} × ${code}`).join(", "),
  };
}

export function tokenCache(target: Target, ttlSeconds: number) {
  const tokens = new Map<string, Promise<string>>();
  return (install: Install) => {
    let token = tokens.get(install.installId);
    if (token === undefined) {
      token = mintToken(
        { ...install, scope: "storage:read storage:write" },
        { secret: target.secret, audience: target.audience, ttlSeconds },
      );
      tokens.set(install.installId, token);
    }
    return token;
  };
}

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

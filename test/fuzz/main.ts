// bun run fuzz -- --requests N [--seed S] [--concurrency C] [--seconds T]
// The long fuzz run: the service as its own process (on DATABASE_URL, else on a throwaway
// PostgreSQL cluster on a loopback port), N hostile requests, then a report of statuses,
// every finding, and the process's memory before and after. Exits 1 on any finding.
// The cluster and the server are stopped however the run ends (tools/cleanup.ts).
import { parseCommandLine, usageError } from "../../src/cli/args.ts";
import { dbmate } from "../../src/db/migrate.ts";
import { runCommand } from "../../tools/cleanup.ts";
import { startCluster } from "../../tools/postgres.ts";
import { newInstall, tokenFor } from "../helpers/server.ts";
import { startService } from "../helpers/service.ts";
import { fuzz } from "./fuzz.ts";

const USAGE = `bun run fuzz -- [--requests N] [--seed S] [--concurrency C] [--seconds T]

Sends N hostile requests to the service (its own process, on DATABASE_URL or else on a
throwaway PostgreSQL cluster) and prints a JSON report; exits 1 on any finding.

  --requests N      requests to send (default 20000)
  --seed S          the generator's seed (default: from the clock; printed in the report)
  --concurrency C   requests in flight (default 8)
  --seconds T       stop after T seconds whatever the count (default 3600)
`;

const { values } = parseCommandLine(USAGE, {
  requests: { type: "string", default: "20000" },
  seed: { type: "string", default: String(Date.now() % 1_000_000) },
  concurrency: { type: "string", default: "8" },
  seconds: { type: "string", default: "3600" },
});
const number = (name: "requests" | "seed" | "concurrency" | "seconds", min: number) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) usageError(`--${name} must be an integer ≥ ${min}, got "${values[name]}"`);
  return n;
};
const requests = number("requests", 1);
const seed = number("seed", 0);
const concurrency = number("concurrency", 1);
const seconds = number("seconds", 1);
const say = (line: string) => process.stderr.write(`fuzz: ${line}\n`);

await runCommand(async () => {
  let url = process.env.DATABASE_URL;
  if (!url) {
    const cluster = await startCluster();
    say(`PostgreSQL in ${cluster.dir}`);
    url = cluster.url("postgres");
    const migrated = await dbmate(url, ["up"]);
    if (migrated.code !== 0) throw new Error(`migrating the fuzz database failed:\n${migrated.output}`);
  }
  const service = await startService(url, { STORAGE_MAX_BODY_BYTES: "65536" }, { announce: say });
  const install = newInstall("fuzz");
  const tokens = {
    install: await tokenFor(install, "storage:read storage:write storage:schema"),
    reader: await tokenFor(install, "storage:read"),
    admin: await tokenFor({}, "storage:admin"),
  };
  await fuzz({ url: service.url, tokens, requests: 200, seed: seed + 1 });
  const rssBefore = service.rssMiB();
  const report = await fuzz({ url: service.url, tokens, requests, seed, concurrency, maxSeconds: seconds });
  const rssAfter = service.rssMiB();
  const up = service.alive() && (await fetch(`${service.url}/readyz`)).status === 200;
  console.log(
    JSON.stringify(
      {
        seed,
        requests: report.requests,
        seconds: Number(report.seconds.toFixed(1)),
        statuses: report.statuses,
        appFiveHundreds: report.fiveHundreds,
        httpLayerFiveHundreds: report.httpLayer5xx,
        answeredByHttpLayer: report.protocolLevel,
        closedByHttpLayer: report.closedByHttpLayer,
        rssMiB: { before: Math.round(rssBefore), after: Math.round(rssAfter) },
        serviceUp: up,
        findings: report.findings,
      },
      null,
      2,
    ),
  );
  return report.findings.length > 0 || report.fiveHundreds > 0 || !up ? 1 : 0;
});

// bun run fuzz -- --requests N [--seed S] [--concurrency C] [--seconds T]
// The long fuzz run: the service as its own process (on DATABASE_URL, else on a throwaway
// PostgreSQL cluster on a loopback port), N hostile requests, then a report of statuses,
// every finding, and the process's memory before and after. Exits 1 on any finding.
import { parseArgs } from "node:util";
import { dbmate } from "../../src/db/migrate.ts";
import { type Cluster, startCluster } from "../helpers/postgres.ts";
import { newInstall, tokenFor } from "../helpers/server.ts";
import { startService } from "../helpers/service.ts";
import { fuzz } from "./fuzz.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "20000" },
    seed: { type: "string", default: String(Date.now() % 1_000_000) },
    concurrency: { type: "string", default: "8" },
    seconds: { type: "string", default: "3600" },
  },
});
const requests = Number(values.requests);
const seed = Number(values.seed);

let cluster: Cluster | undefined;
let url = process.env.DATABASE_URL;
if (!url) {
  cluster = await startCluster();
  url = cluster.url("postgres");
  const migrated = await dbmate(url, ["up"]);
  if (migrated.code !== 0) throw new Error(migrated.output);
}
const service = await startService(url, { STORAGE_MAX_BODY_BYTES: "65536" });
let failed = false;
try {
  const install = newInstall("fuzz");
  const tokens = {
    install: await tokenFor(install, "storage:read storage:write storage:schema"),
    reader: await tokenFor(install, "storage:read"),
    admin: await tokenFor({}, "storage:admin"),
  };
  await fuzz({ url: service.url, tokens, requests: 200, seed: seed + 1 });
  const rssBefore = service.rssMiB();
  const report = await fuzz({
    url: service.url,
    tokens,
    requests,
    seed,
    concurrency: Number(values.concurrency),
    maxSeconds: Number(values.seconds),
  });
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
  failed = report.findings.length > 0 || report.fiveHundreds > 0 || !up;
} finally {
  await service.kill();
  cluster?.stop();
}
process.exit(failed ? 1 : 0);

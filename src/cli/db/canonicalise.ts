// bun run db:canonicalise [--batch 200] [--installs 100] [--max-batches 100000] [--max-time 10m] [--url …]
// Gives stored rows that lack it the canonical text of their value (value_json), in bounded
// batches, while the service runs. Prints progress on stderr and a JSON record on stdout;
// exit 0 when every install was visited, 1 when a bound stopped it first (run it again).
import { connect } from "../../db/client.ts";
import { backfillCanonicalValues } from "../../records/canonical-backfill.ts";
import { parseCommandLine } from "../args.ts";
import { count, databaseUrl, duration, printJson } from "./common.ts";

const USAGE = `bun run db:canonicalise [--batch 200] [--installs 100] [--max-batches 100000] [--max-time 10m] [--url URL]

Gives stored rows that lack it the canonical text of their value, in bounded batches, while
the service runs. Progress on stderr, a JSON record on stdout; exit 0 when every install was
visited, 1 when a bound stopped it first (run it again).

  --batch N          rows per batch (default 200)
  --installs N       installs looked for per scan (default 100)
  --max-batches N    stop after this many batches (default 100000)
  --max-time T       stop after this long, e.g. 90s, 10m (default 10m)
  --url URL          the database (default: DATABASE_URL)
`;

const { values } = parseCommandLine(USAGE, {
  url: { type: "string" },
  batch: { type: "string" },
  installs: { type: "string" },
  "max-batches": { type: "string" },
  "max-time": { type: "string" },
});
const url = databaseUrl(values.url);
const options = {
  batchRows: Math.max(1, count("batch", values.batch, 200, 5000)),
  installsPerScan: Math.max(1, count("installs", values.installs, 100, 10_000)),
  maxBatches: count("max-batches", values["max-batches"], 100_000, 10_000_000),
  maxSeconds: duration("max-time", values["max-time"], 600_000) / 1000,
};
const db = connect(url, { poolMax: 1, prepare: true });
try {
  const result = await backfillCanonicalValues(db, options, (line) => process.stderr.write(`${line}\n`));
  printJson({ command: "canonicalise", ...options, ...result });
  process.exitCode = result.complete ? 0 : 1;
} finally {
  await db.close();
}

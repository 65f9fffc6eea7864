// bun run db:status [--json] [--exit-code] [--url …]
// Which migrations the database has applied; with --exit-code, exits 1 while any is pending.
import { describeUrl } from "../../ops/connection.ts";
import { migrationStatus } from "../../ops/status.ts";
import { parseCommandLine } from "../args.ts";
import { databaseUrl, printJson } from "./common.ts";

const USAGE = `bun run db:status [--json] [--exit-code] [--url URL]

Lists the migrations of db/migrations, applied or pending, and applied versions with no file.

  --json        machine-readable output
  --exit-code   exit 1 while any migration is pending
  --url URL     the database (default: DATABASE_URL)
`;

const { values } = parseCommandLine(USAGE, {
  url: { type: "string" },
  json: { type: "boolean", default: false },
  "exit-code": { type: "boolean", default: false },
});
const url = databaseUrl(values.url);
const status = await migrationStatus(url);
if (values.json) {
  printJson({ database: describeUrl(url), ...status });
} else {
  const lines = status.files.map((f) => `[${f.applied ? "X" : " "}] ${f.file}`);
  for (const v of status.unknown) lines.push(`[?] ${v} (applied, but no file in db/migrations)`);
  lines.push("", `Applied: ${status.applied.length}`, `Pending: ${status.pending.length}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}
process.exit(values["exit-code"] && status.pending.length > 0 ? 1 : 0);

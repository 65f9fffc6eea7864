// bun run db:verify [--json] [--url …]
// Tables, columns, indexes, migrations, Citus placement and a rolled-back smoke CRUD.
// Exits 1 when any check fails. See docs/runbook.md.
import { renderHuman, verify } from "../../ops/verify.ts";
import { parseCommandLine } from "../args.ts";
import { databaseUrl, printJson } from "./common.ts";

const USAGE = `bun run db:verify [--json] [--url URL]

Checks tables, columns, indexes, applied migrations, Citus placement and a rolled-back smoke
CRUD; exits 1 when any check fails.

  --json      machine-readable output
  --url URL   the database (default: DATABASE_URL)
`;

const { values } = parseCommandLine(USAGE, { url: { type: "string" }, json: { type: "boolean", default: false } });
const result = await verify(databaseUrl(values.url));
if (values.json) printJson(result);
else process.stdout.write(`${renderHuman(result)}\n`);
process.exit(result.ok ? 0 : 1);

// bun run db:verify [--json] [--url …]
// Tables, columns, indexes, migrations, Citus placement and a rolled-back smoke CRUD.
// Exits 1 when any check fails. See docs/runbook.md.
import { parseArgs } from "node:util";
import { renderHuman, verify } from "../../db/verify.ts";
import { databaseUrl, printJson } from "./common.ts";

const { values } = parseArgs({
  options: { url: { type: "string" }, json: { type: "boolean", default: false } },
  strict: true,
});
const result = await verify(databaseUrl(values.url));
if (values.json) printJson(result);
else process.stdout.write(`${renderHuman(result)}\n`);
process.exit(result.ok ? 0 : 1);

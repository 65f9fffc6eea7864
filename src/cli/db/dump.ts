// bun run db:dump [--schema-file db/schema.sql] [--url …]
// Writes dbmate's schema dump (pg_dump, schema only, plus the applied versions). CI compares
// the committed db/schema.sql with a dump of freshly migrated databases; the lines naming the
// server's minor version are left out (see comparableDump).
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { comparableDump, dbmate, SCHEMA_FILE } from "../../db/migrate.ts";
import { databaseUrl } from "./common.ts";

const { values } = parseArgs({
  options: { url: { type: "string" }, "schema-file": { type: "string", default: SCHEMA_FILE } },
  strict: true,
});
const result = await dbmate(databaseUrl(values.url), ["--schema-file", values["schema-file"], "dump"]);
process.stderr.write(result.output);
if (result.code === 0) {
  const file = values["schema-file"];
  writeFileSync(file, comparableDump(readFileSync(file, "utf8")));
}
process.exit(result.code === 0 ? 0 : 1);

// bun run db:dump [--schema-file db/schema.sql] [--url …]
// Writes dbmate's schema dump (pg_dump, schema only, plus the applied versions). CI compares
// the committed db/schema.sql with a dump of freshly migrated databases; the lines naming the
// server's minor version are left out (see comparableDump).
import { readFileSync, writeFileSync } from "node:fs";
import { comparableDump, dbmate, SCHEMA_FILE } from "../../db/migrate.ts";
import { parseCommandLine } from "../args.ts";
import { databaseUrl } from "./common.ts";

const USAGE = `bun run db:dump [--schema-file db/schema.sql] [--url URL]

Writes dbmate's schema dump of the database (needs pg_dump), without the lines that name the
server's minor version.

  --schema-file F   where to write it (default ${SCHEMA_FILE})
  --url URL         the database (default: DATABASE_URL)
`;

const { values } = parseCommandLine(USAGE, {
  url: { type: "string" },
  "schema-file": { type: "string", default: SCHEMA_FILE },
});
const result = await dbmate(databaseUrl(values.url), ["--schema-file", values["schema-file"], "dump"]);
process.stderr.write(result.output);
if (result.code === 0) {
  const file = values["schema-file"];
  writeFileSync(file, comparableDump(readFileSync(file, "utf8")));
}
process.exit(result.code === 0 ? 0 : 1);

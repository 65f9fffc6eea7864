// Each integration test that uses the database imports the test database helper itself: it is
// started by whichever file comes first, so a file that leaves the import out passes in a full
// run and fails alone (or with 503s when it comes first).
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";

// the integration tests that need no database
const WITHOUT_DATABASE = new Set(["alerts.test.ts", "influx.test.ts"]);

test("every integration test that needs the database imports test/helpers/test-database.ts", () => {
  const dir = new URL("../integration/", import.meta.url);
  const missing = readdirSync(dir)
    .filter((file) => file.endsWith(".test.ts") && !WITHOUT_DATABASE.has(file))
    .filter((file) => !readFileSync(new URL(file, dir), "utf8").includes('"../helpers/test-database.ts"'));
  expect(missing).toEqual([]);
});

// Health probes (/healthz, /readyz: an orchestrator's, the container's HEALTHCHECK) are
// logged at debug; every other request at info.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { connect } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { TEST_SECRET } from "../helpers/server.ts";

const db = connect(process.env.DATABASE_URL as string, { poolMax: 1, prepare: true });
afterAll(() => db.close());

async function logged(level: "info" | "debug", paths: string[]) {
  const lines: { level: string; msg: string; route: string }[] = [];
  const config = loadConfig({ STORAGE_JWT_SECRET: TEST_SECRET, LOG_LEVEL: level, STORAGE_RATE_LIMIT: "0" });
  const log = createLogger(level, (line) => lines.push(JSON.parse(line)));
  const app = buildApp({ config, db, log, jwtSecret: TEST_SECRET });
  for (const path of paths) expect((await app.handle(new Request(`http://127.0.0.1${path}`))).status).toBeLessThan(500);
  // the log line is written after the response
  await Bun.sleep(50);
  return lines.filter((l) => l.msg === "request");
}

test("probes log at debug, other requests at info", async () => {
  const atInfo = await logged("info", ["/healthz", "/readyz", "/v1/usage"]);
  expect(atInfo.map((l) => [l.level, l.route])).toEqual([["info", "/v1/usage"]]);
  const atDebug = await logged("debug", ["/healthz", "/readyz"]);
  expect(atDebug.map((l) => [l.level, l.route])).toEqual([
    ["debug", "/healthz"],
    ["debug", "/readyz"],
  ]);
});

// The configuration schema is the source of the README's configuration table, and of the
// values and refusals loadConfig gives.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ConfigError, configTable, ENV, loadConfig } from "../../src/config.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

test("README's configuration table is the one the schema renders", () => {
  const start = README.indexOf("| variable ");
  const end = README.indexOf("\n\n", start);
  expect(start).toBeGreaterThan(-1);
  // on a difference: paste configTable() (bun -e 'import("./src/config.ts").then(c => console.log(c.configTable()))')
  expect(README.slice(start, end)).toBe(configTable());
});

test("defaults come from the schema", () => {
  const config = loadConfig({});
  expect(config.port).toBe(ENV.properties.PORT.default);
  expect(config.limits.maxBulkItems).toBe(ENV.properties.STORAGE_MAX_BULK_ITEMS.default);
  expect(config.db.prepare).toBe(true);
  expect(config.logLevel).toBe("info");
  expect(config.databaseUrl).toBeUndefined();
  expect(config.host).toBe("0.0.0.0");
});

test("bounds come from the schema, with the same messages", () => {
  const refusal = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return "accepted";
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.message;
    }
  };
  expect(refusal({ PORT: "65536" })).toBe('PORT must be an integer from 0 to 65535, got "65536"');
  expect(refusal({ STORAGE_MAX_VALUE_BYTES: "not-a-number" })).toBe(
    `STORAGE_MAX_VALUE_BYTES must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got "not-a-number"`,
  );
  expect(refusal({ STORAGE_RATE_LIMIT: "1.5" })).toContain("STORAGE_RATE_LIMIT must be an integer from 0 to 1000000");
  expect(refusal({ STORAGE_QUOTA_BYTES: "1e20" })).toBe(
    `STORAGE_QUOTA_BYTES must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got "1e20"`,
  );
  expect(refusal({ STORAGE_DB_PREPARE: "maybe" })).toBe('STORAGE_DB_PREPARE must be true or false, got "maybe"');
  expect(refusal({ LOG_LEVEL: "loud" })).toBe("LOG_LEVEL must be one of debug, info, warn, error, silent");
  expect(loadConfig({ STORAGE_DB_PREPARE: "off", PORT: "0", LOG_LEVEL: "WARN" })).toMatchObject({
    port: 0,
    db: { prepare: false },
    logLevel: "warn",
  });
});

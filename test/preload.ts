// Loaded by bunfig.toml before any test file. It starts nothing, so that the unit tests run
// without PostgreSQL; after the last file it stops the test database, if an integration test
// started one (test/helpers/test-database.ts): bun test fires no process "exit" event, so
// tools/cleanup.ts alone would leave it running after a normal end (it still stops it on
// SIGINT / SIGTERM).
import { afterAll } from "bun:test";

afterAll(() => (globalThis as { extStorageTestCluster?: { stop(): void } }).extStorageTestCluster?.stop());

// The embedded default: PGlite persisted in the data folder, served to postgres.js over a
// loopback socket so the service runs the very same driver and SQL as on PostgreSQL.
// Migrations run through dbmate itself, so `dbmate up` against it later agrees. The folder
// is held for this process alone while the database is open (data-dir-lock.ts).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { lockDataDir } from "./data-dir-lock.ts";
import { dbmate } from "./migrate.ts";

export type Embedded = { url: string; stop(): Promise<void> };

const urlOf = (server: PGLiteSocketServer) => `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;

export async function startEmbedded(dataDir: string): Promise<Embedded> {
  const lock = await lockDataDir(dataDir); // before anything in the folder is opened
  try {
    return await open(dataDir, lock.release);
  } catch (error) {
    lock.release();
    throw error;
  }
}

/**
 * PGlite's memory is the process's: its default shared_buffers (128 MB, never given back by
 * the WebAssembly heap once touched) was the largest single part of an idle service's RSS.
 * 16 MB holds the working set of a development database; the rest is PostgreSQL's defaults
 * cut to one session's needs (bench/README.md, Embedded mode).
 */
const EMBEDDED_SETTINGS = ["shared_buffers=16MB", "wal_buffers=1MB", "work_mem=1MB", "maintenance_work_mem=8MB"];

async function open(dataDir: string, release: () => void): Promise<Embedded> {
  const dir = join(dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir, { postgresqlconf: EMBEDDED_SETTINGS });

  // dbmate opens two connections; PGlite has one session, and the socket server interleaves
  // the statements of its connections. So migrate first through a server that admits
  // several, then serve the app through one that admits exactly one connection.
  const migrator = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 4 });
  await migrator.start();
  const migrated = await dbmate(urlOf(migrator), ["migrate"]).finally(() => migrator.stop());
  if (migrated.code !== 0) {
    await db.close();
    throw new Error(`embedded database migration failed:\n${migrated.output}`);
  }

  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 1 });
  await server.start();
  return {
    url: urlOf(server),
    async stop() {
      try {
        await server.stop();
        await db.close();
      } finally {
        release();
      }
    },
  };
}

// --influx against a real InfluxDB 1.x (Debian's influxdb package), started here on a
// loopback port with its own temporary config and data. Runs only where an influxd binary
// exists, and says so when it is skipped.
import { afterAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseOptions } from "../../bench/load/options.ts";
import { Recorder } from "../../bench/load/recorder.ts";
import { buildSub } from "../../bench/load/report/build.ts";
import { pushToInflux } from "../../bench/load/report/influx.ts";
import { ROLLOUT_SLOS } from "../../bench/load/report/slo.ts";
import { assemble } from "../../bench/load/run.ts";
import { freePort } from "../helpers/postgres.ts";

const influxd = spawnSync("sh", ["-c", "command -v influxd"], { encoding: "utf8" }).stdout.trim();
if (influxd === "") process.stderr.write("InfluxDB test skipped: no influxd binary (Debian package influxdb)\n");

let child: ChildProcess | undefined;
let dir: string | undefined;
afterAll(() => {
  child?.kill("SIGKILL");
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function startInflux(): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), "ext-storage-influx-"));
  const [http, rpc] = [await freePort(), await freePort()];
  const config = join(dir, "influxdb.conf");
  writeFileSync(
    config,
    [
      "reporting-disabled = true",
      `bind-address = "127.0.0.1:${rpc}"`,
      "[meta]",
      `  dir = "${join(dir, "meta")}"`,
      "[data]",
      `  dir = "${join(dir, "data")}"`,
      `  wal-dir = "${join(dir, "wal")}"`,
      "  query-log-enabled = false",
      "[http]",
      `  bind-address = "127.0.0.1:${http}"`,
      "  log-enabled = false",
      "[monitor]",
      "  store-enabled = false",
      "",
    ].join("\n"),
  );
  child = spawn(influxd, ["-config", config], { stdio: "ignore" });
  const url = `http://127.0.0.1:${http}`;
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/ping`)).status === 204) return url;
    } catch {
      // not up yet
    }
    await Bun.sleep(100);
  }
  throw new Error("influxd did not answer /ping within 15 s");
}

describe("InfluxDB push", () => {
  test.skipIf(influxd === "")("the report's points land in InfluxDB 1.x and read back", async () => {
    const url = await startInflux();
    const recorder = new Recorder(0, (op) => (op === "get" ? "read" : "write"));
    for (let i = 0; i < 100; i++) {
      recorder.record("get", i * 10, i * 10 + 2);
      recorder.record("put", i * 10, i * 10 + 5);
    }
    const sub = buildSub(
      recorder,
      { offeredOpsPerSec: 200, measuredMs: 1000, checks: [], opsByInstall: new Map([["i", 1]]) },
      {
        name: "crud-mix",
        deadlocks: { before: 0, after: 0 },
        rowsByInstall: undefined,
        rowsSource: "",
        rss: [],
        cpu: { cores: 2, machinePercent: 100, serverPercent: null, driverPercent: 10, loadAverage1m: 1 },
        slos: ROLLOUT_SLOS,
      },
    );
    const o = parseOptions([], {});
    const target = {
      url: "http://127.0.0.1:1",
      secret: "",
      audience: "",
      mode: "external" as const,
      pid: undefined,
      stop: async () => {},
    };
    const report = assemble(o, "bun run load", new Date().toISOString(), target, null, [sub]);

    const pushed = await pushToInflux(`${url}?db=load_test`, report);
    expect(pushed).toEqual({ db: "load_test", lines: 5 });

    const q = new URLSearchParams({
      db: "load_test",
      q: `SELECT "count", p95_ms FROM ext_storage_load WHERE op = 'get'`,
    });
    const res = await fetch(`${url}/query?${q}`);
    const body = (await res.json()) as { results: { series?: { columns: string[]; values: unknown[][] }[] }[] };
    const series = body.results[0]?.series?.[0];
    expect(series?.columns).toEqual(["time", "count", "p95_ms"]);
    expect(series?.values[0]?.slice(1)).toEqual([100, 2]);

    const runs = new URLSearchParams({ db: "load_test", q: `SELECT verdict, deadlocks FROM ext_storage_load_run` });
    const r = (await (await fetch(`${url}/query?${runs}`)).json()) as typeof body;
    expect(r.results[0]?.series?.[0]?.values[0]?.slice(1)).toEqual(["pass", 0]);
  });
});

// bun run load: the ext-storage load driver. See bench/README.md for what it measures and
// how to read the report; `bun run load --help` lists the flags.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../../tools/cleanup.ts";
import { ceiling } from "./ceiling.ts";
import { probe } from "./database.ts";
import { findMax } from "./find-max.ts";
import { parseOptions, USAGE } from "./options.ts";
import { ttyProgress } from "./progress.ts";
import { renderHtml } from "./report/html.ts";
import { pushToInflux } from "./report/influx.ts";
import type { Report } from "./report/schema.ts";
import { renderTable } from "./report/table.ts";
import { assemble, runLoad, withTarget } from "./run.ts";

const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  let o: ReturnType<typeof parseOptions>;
  try {
    o = parseOptions(argv);
  } catch (error) {
    // one line: "Unknown option '--x'. To specify a positional …" is cut at its first sentence
    const message = (error as Error).message.split("\n")[0] ?? "";
    say(`bun run load: ${message.split(/\.\s/)[0]} (--help lists the flags)`);
    return 2;
  }
  const command = `bun run load ${argv.join(" ")}`.trim();
  if (o.command === "ceiling") return ceiling(o, say);

  const progress = ttyProgress(o.progress);
  let report: Report;
  let findMaxLine: string | undefined;
  if (o.findMax) {
    const startedAt = new Date().toISOString();
    const db = o.databaseUrl === undefined ? undefined : probe(o.databaseUrl);
    try {
      const postgres = (await db?.version()) ?? null;
      report = await withTarget(o, async (target) => {
        const found = await findMax(target, o, db, progress, (line) => {
          progress.clear();
          say(line);
        });
        findMaxLine = `find-max: highest sustained crud-mix rate ${found.maxOpsPerSec} ops/s (${found.steps.length} steps)`;
        const r = assemble(o, command, startedAt, target, postgres, found.reports);
        r.config.findMaxResult = found;
        return r;
      });
    } finally {
      await db?.close();
    }
  } else {
    report = await runLoad(o, command, progress);
  }
  progress.clear();

  const stamp = report.startedAt.replace(/[:.]/g, "-");
  if (o.out !== undefined) {
    mkdirSync(o.out, { recursive: true });
    const base = join(o.out, `load-${stamp}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${base}.html`, renderHtml(report));
    say(`report: ${base}.json, ${base}.html`);
  }
  process.stdout.write(`${renderTable(report)}\n`);
  if (findMaxLine !== undefined) process.stdout.write(`${findMaxLine}\n`);
  if (o.influx !== undefined) {
    try {
      const pushed = await pushToInflux(o.influx, report);
      say(`influx: ${pushed.lines} points written to database ${pushed.db}`);
    } catch (error) {
      say(`influx push failed: ${(error as Error).message}`);
      return 1;
    }
  }
  // find-max ends on a step that broke by design: its answer is the rate that held
  if (o.findMax) return (report.config.findMaxResult as { maxOpsPerSec: number }).maxOpsPerSec > 0 ? 0 : 1;
  return report.verdict === "pass" ? 0 : 1;
}

await runCommand(main);

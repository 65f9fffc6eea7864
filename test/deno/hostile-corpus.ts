// The hostile corpus against the validator module directly, under whichever runtime runs
// this file (`deno run --allow-read test/deno/hostile-corpus.ts`, or bun): each case must
// get its expected answer; prints the slowest validation beside the 50 ms bound and exits
// 1 when an answer differs. Driven from test/integration/fairness-schemas.test.ts.
import { AppError } from "../../src/errors.ts";
import { prepareValidator, VALIDATION_BOUND_MS } from "../../src/records/validator.ts";
import { cpuMs } from "../../tools/cpu.ts";
import { HOSTILE_CORPUS, type Outcome } from "../helpers/hostile-corpus.ts";

const runtime =
  "Deno" in globalThis
    ? `Deno ${(globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno}`
    : `Bun ${Bun.version}`;

const wrong: string[] = [];
let slowest = { ms: 0, name: "" };
for (const hostile of HOSTILE_CORPUS) {
  let got: Outcome;
  try {
    const validate = prepareValidator(hostile.schema, { maxSchemaBytes: 65_536, maxValueBytes: 65_536 });
    got = validate(hostile.value) ? "valid" : "invalid"; // warms it up too
    const ms = cpuMs(() => validate(hostile.value));
    if (ms > slowest.ms) slowest = { ms, name: hostile.name };
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 400) throw error;
    got = "refused";
  }
  if (got !== hostile.expect) wrong.push(`${hostile.name}: ${got}, expected ${hostile.expect}`);
}
console.log(
  `hostile corpus on ${runtime}: ${HOSTILE_CORPUS.length} cases, ${wrong.length} wrong; slowest validation ${slowest.ms.toFixed(2)} ms of CPU (${slowest.name}); bound ${VALIDATION_BOUND_MS} ms`,
);
for (const w of wrong) console.log(`wrong: ${w}`);
if (wrong.length > 0) throw new Error(`${wrong.length} hostile cases answered wrongly`);

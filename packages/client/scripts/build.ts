// Builds the package for Node and browsers: one ESM bundle (Bun.build) and the type
// declarations (tsc), in dist/. Bun and Deno import the TypeScript sources as they are.
//
//   bun run client:build [--out dir]    writes dir (default: packages/client/dist)
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseCommandLine } from "../../../src/cli/args.ts";

export const ENTRY = fileURLToPath(new URL("../src/index.ts", import.meta.url));
const PACKAGE = fileURLToPath(new URL("../", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The bundle's text: ESM for browsers and Node; minified when asked. */
export async function bundleClient(options: { minify?: boolean } = {}): Promise<string> {
  const result = await Bun.build({ entrypoints: [ENTRY], format: "esm", target: "browser", minify: options.minify });
  const output = result.outputs[0];
  if (!result.success || output === undefined) throw new Error(`build failed: ${result.logs.join("\n")}`);
  return output.text();
}

/** Writes outdir/index.js and the declarations (outdir/*.d.ts, importing each other as .js). */
export async function buildClient(outdir: string): Promise<void> {
  writeFileSync(`${outdir}/index.js`, await bundleClient());
  const tsc = Bun.spawnSync(
    [
      `${ROOT}node_modules/.bin/tsc`,
      ...["-p", `${PACKAGE}tsconfig.json`, "--noEmit", "false", "--declaration", "--emitDeclarationOnly"],
      ...["--rewriteRelativeImportExtensions", "--rootDir", `${PACKAGE}src`, "--outDir", outdir],
    ],
    { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
  );
  if (tsc.exitCode !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  // a declaration keeps its imports as written: point them at the .d.ts beside it
  for (const file of readdirSync(outdir).filter((f) => f.endsWith(".d.ts"))) {
    const path = `${outdir}/${file}`;
    writeFileSync(path, readFileSync(path, "utf8").replace(/(from\s+"\.\/[a-z-]+)\.ts"/g, '$1.js"'));
  }
}

const USAGE = `bun run client:build [--out dir]

Bundles @ext-storage/client for Node and browsers: index.js (ESM) and its .d.ts files.
  --out dir   where to write them (default: packages/client/dist)`;

if (import.meta.main) {
  const { values } = parseCommandLine(USAGE, { out: { type: "string" } });
  const outdir = values.out ?? `${PACKAGE}dist`;
  await Bun.$`mkdir -p ${outdir}`;
  await buildClient(outdir);
  console.log(`wrote ${outdir}`);
}

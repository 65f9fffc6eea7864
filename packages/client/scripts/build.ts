// Bundles the client into one ESM file with Bun.build, for Node and browsers (Bun and Deno
// import the TypeScript sources as they are).
//
//   bun packages/client/scripts/build.ts [outdir]    writes outdir/index.js (default: packages/client/dist)
import { fileURLToPath } from "node:url";

export const ENTRY = fileURLToPath(new URL("../src/index.ts", import.meta.url));

/** The bundle's text: ESM for browsers and Node; minified when asked. */
export async function bundleClient(options: { minify?: boolean } = {}): Promise<string> {
  const result = await Bun.build({ entrypoints: [ENTRY], format: "esm", target: "browser", minify: options.minify });
  const output = result.outputs[0];
  if (!result.success || output === undefined) throw new Error(`build failed: ${result.logs.join("\n")}`);
  return output.text();
}

if (import.meta.main) {
  const outdir = process.argv[2] ?? fileURLToPath(new URL("../dist", import.meta.url));
  const file = `${outdir}/index.js`;
  await Bun.write(file, await bundleClient());
  console.log(`wrote ${file}`);
}

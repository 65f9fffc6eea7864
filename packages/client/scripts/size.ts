// The client's size as a browser extension ships it: the whole package bundled and minified
// by Bun.build, then gzipped (level 9). Exits 1 above the target.
//
//   bun run client:size
import { gzipSync } from "node:zlib";
import { parseCommandLine } from "../../../src/cli/args.ts";
import { bundleClient } from "./build.ts";

/** The target for the minified and gzipped bundle. */
export const TARGET_BYTES = 8 * 1024;

export async function clientSize(): Promise<{ minified: number; gzipped: number }> {
  const minified = new TextEncoder().encode(await bundleClient({ minify: true }));
  return { minified: minified.byteLength, gzipped: gzipSync(minified, { level: 9 }).byteLength };
}

const USAGE = `bun run client:size

Bundles @ext-storage/client minified (Bun.build), gzips it (level 9) and reports both sizes;
exits 1 when the gzipped size is over the 8 KB target.`;

if (import.meta.main) {
  parseCommandLine(USAGE, {});
  const { minified, gzipped } = await clientSize();
  const kb = (n: number) => `${(n / 1024).toFixed(2)} KB`;
  console.log(`@ext-storage/client: ${kb(minified)} minified, ${kb(gzipped)} min+gzip (target ≤ ${kb(TARGET_BYTES)})`);
  process.exit(gzipped <= TARGET_BYTES ? 0 : 1);
}

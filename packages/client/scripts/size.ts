// The client's size as a browser extension ships it: the whole package bundled and minified
// by Bun.build, then gzipped (level 9). Exits 1 above the target.
//
//   bun run client:size
import { gzipSync } from "node:zlib";
import { bundleClient } from "./build.ts";

/** The target for the minified and gzipped bundle. */
export const TARGET_BYTES = 8 * 1024;

export async function clientSize(): Promise<{ minified: number; gzipped: number }> {
  const minified = new TextEncoder().encode(await bundleClient({ minify: true }));
  return { minified: minified.byteLength, gzipped: gzipSync(minified, { level: 9 }).byteLength };
}

if (import.meta.main) {
  const { minified, gzipped } = await clientSize();
  const kb = (n: number) => `${(n / 1024).toFixed(2)} KB`;
  console.log(`@ext-storage/client: ${kb(minified)} minified, ${kb(gzipped)} min+gzip (target ≤ ${kb(TARGET_BYTES)})`);
  process.exit(gzipped <= TARGET_BYTES ? 0 : 1);
}

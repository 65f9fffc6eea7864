// The container's HEALTHCHECK: exits 0 when /healthz on this host's PORT answers 200 within
// two seconds. Bun runs it, so the slim image needs no curl.
import { loadConfig } from "../config.ts";

const { port } = loadConfig();
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}

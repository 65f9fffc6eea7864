// bun run db:migrate [--safe] [--lock-timeout 2s] [--statement-timeout 60s] [--retries 3] [--backoff 1s] [--url …]
// Applies every pending migration of db/migrations. See docs/runbook.md.
import { apply } from "./apply.ts";

process.exit(await apply("up", process.argv.slice(2)));

// bun run db:rollback [--force] [--safe …] [--url …]
// Rolls back the newest applied migration; refuses while ext_storage_records holds rows
// unless --force. See docs/runbook.md.
import { apply } from "./apply.ts";

process.exit(await apply("down", process.argv.slice(2)));

// The command line of every command (start, token, db:*, bench, load, fuzz): --help (or -h)
// prints the usage and exits 0; an unknown flag or a malformed value is one line on stderr
// and exit 2, never a stack trace.
import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Prints a one-line usage error and exits 2. */
export function usageError(message: string): never {
  process.stderr.write(`${message.split("\n")[0]}\n`);
  process.exit(2);
}

export function parseCommandLine<const O extends Options>(
  usage: string,
  options: O,
  { argv = process.argv.slice(2), positionals = false }: { argv?: string[]; positionals?: boolean } = {},
) {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: O & { help: { type: "boolean"; short: "h" } };
      allowPositionals: boolean;
      strict: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: positionals,
      strict: true,
    });
  } catch (error) {
    const e = error as Error & { code?: string };
    const flag = /'([^']+)'/.exec(e.message)?.[1];
    // "bun run token", from the usage's first line
    const command = (usage.split("\n")[0] ?? "").split(" ").slice(0, 3).join(" ");
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION")
      usageError(`${command}: unknown flag ${flag} (--help lists the flags)`);
    if (e.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      usageError(`${command}: unexpected argument ${flag} (--help lists the flags)`);
    }
    usageError(`${command}: ${e.message.split(/\.\s/)[0]} (--help lists the flags)`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage.endsWith("\n") ? usage : `${usage}\n`);
    process.exit(0);
  }
  return parsed;
}

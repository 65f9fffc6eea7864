// Schema patterns (`pattern`, `patternProperties`, `propertyNames`) run on RE2's linear-time
// engine (re2js, plain JavaScript: the same code under Bun, Deno and browsers), never on the
// runtime's backtracking RegExp: `^(a|a)*$` against 28 "a" and a "!" kept Bun's event loop
// busy ~0.5 s per write, and V8 doubles that with every added character; RE2 matches the same
// 10,000-character string in a few milliseconds. Figures: bench/README.md, "Schema patterns".
import { RE2JS } from "re2js";

/**
 * Rewrites the ECMAScript syntax JSON Schema patterns use into RE2 syntax, keeping the
 * ECMAScript meaning where the two differ and the difference can be written in RE2:
 * - `\uXXXX` (a surrogate pair joined into one code point) and `\u{X…}` become `\x{…}`;
 * - `\cX` becomes the control character's `\x{…}`;
 * - `(?<name>` becomes `(?P<name>`;
 * - outside a class, `.` excludes every ECMAScript line terminator (RE2's excludes only
 *   `\n`) and `\s` / `\S` take ECMAScript's Unicode white space (RE2's is ASCII only).
 * Inside a class, `\s` and `\S` keep RE2's ASCII meaning (documented in docs/decisions.md).
 * Anything RE2 cannot run (backreferences, lookaround, `\k<name>`) is left as written, so
 * that compiling it fails and the schema is refused.
 */
const JS_SPACE =
  "\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";
const hex4 = /^[0-9A-Fa-f]{4}$/;

export function toRe2Syntax(pattern: string): string {
  let out = "";
  let inClass = false;
  let i = 0;
  const at = (n: number) => pattern.slice(i, i + n);
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === "u" && pattern[i + 2] === "{") {
        const end = pattern.indexOf("}", i + 3);
        if (end > 0) {
          out += `\\x{${pattern.slice(i + 3, end)}}`;
          i = end + 1;
          continue;
        }
      } else if (next === "u" && hex4.test(pattern.slice(i + 2, i + 6))) {
        let code = Number.parseInt(pattern.slice(i + 2, i + 6), 16);
        let width = 6;
        const low = pattern.slice(i + 8, i + 12);
        if (code >= 0xd800 && code < 0xdc00 && pattern.slice(i + 6, i + 8) === "\\u" && hex4.test(low)) {
          const lowCode = Number.parseInt(low, 16);
          if (lowCode >= 0xdc00 && lowCode < 0xe000) {
            code = 0x10000 + ((code - 0xd800) << 10) + (lowCode - 0xdc00);
            width = 12;
          }
        }
        out += `\\x{${code.toString(16)}}`;
        i += width;
        continue;
      } else if (next === "c" && /^[A-Za-z]$/.test(pattern[i + 2] ?? "")) {
        out += `\\x{${((pattern.charCodeAt(i + 2) as number) % 32).toString(16)}}`;
        i += 3;
        continue;
      } else if (!inClass && next === "s") {
        out += `[${JS_SPACE}]`;
        i += 2;
        continue;
      } else if (!inClass && next === "S") {
        out += `[^${JS_SPACE}]`;
        i += 2;
        continue;
      }
      out += at(2);
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += c;
      i++;
      continue;
    }
    if (c === "[") {
      // "[]" matches nothing and "[^]" anything in ECMAScript; RE2 would read the "]" as a member
      if (at(2) === "[]" || at(3) === "[^]") {
        out += at(2) === "[]" ? "[^\\x{0}-\\x{10FFFF}]" : "[\\x{0}-\\x{10FFFF}]";
        i += at(2) === "[]" ? 2 : 3;
        continue;
      }
      inClass = true;
      out += at(pattern[i + 1] === "^" ? 2 : 1);
      i += pattern[i + 1] === "^" ? 2 : 1;
      continue;
    }
    if (c === ".") {
      out += "[^\\n\\r\\x{2028}\\x{2029}]";
      i++;
      continue;
    }
    if (at(3) === "(?<" && pattern[i + 3] !== "=" && pattern[i + 3] !== "!") {
      out += "(?P<";
      i += 3;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** A compiled pattern as Ajv calls it: `test` finds a match anywhere, like RegExp#test. */
export type Pattern = { test(s: string): boolean; toString(): string };

/** Compiles a schema pattern on RE2, or throws the engine's reason. */
export function compilePattern(pattern: string): Pattern {
  const re = RE2JS.compile(toRe2Syntax(pattern));
  return { test: (s: string) => re.test(s), toString: () => pattern };
}

/** Why RE2 cannot run a pattern, or undefined when it can. */
export function patternProblem(pattern: string): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^error parsing regexp: /, "");
  }
}

/** The engine in the shape of Ajv's `code.regExp` option; the `u` flag is RE2's default. */
export const re2Engine = Object.assign((pattern: string, _flags: string) => compilePattern(pattern), {
  code: "re2Engine (src/records/patterns.ts)",
});

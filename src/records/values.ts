// What a value may be (spec section 4) and what it weighs. Checked before any database work.
import { fail } from "../errors.ts";
import { utf8Length } from "./keys.ts";

export const MAX_VALUE_DEPTH = 32;

/**
 * Walks a parsed JSON value without recursion: at most 32 nested arrays/objects, finite
 * numbers only (1e400 parses to Infinity and would be stored as null), and strings and
 * object keys that jsonb can hold (no U+0000, no unpaired surrogate).
 * Returns the problem, or undefined.
 */
export function valueProblem(value: unknown): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v === "string") {
      if (!v.isWellFormed() || v.includes("\u0000")) {
        return "strings may not hold U+0000 or unpaired surrogates";
      }
    } else if (typeof v === "number") {
      if (!Number.isFinite(v)) return "numbers must be finite doubles";
    } else if (v !== null && typeof v === "object") {
      if (depth + 1 > MAX_VALUE_DEPTH) return `values nest at most ${MAX_VALUE_DEPTH} arrays/objects`;
      if (Array.isArray(v)) {
        for (const item of v) stack.push([item, depth + 1]);
      } else {
        for (const [k, item] of Object.entries(v)) {
          if (!k.isWellFormed() || k.includes("\u0000")) {
            return "object keys may not hold U+0000 or unpaired surrogates";
          }
          stack.push([item, depth + 1]);
        }
      }
    }
  }
  return undefined;
}

export type PreparedValue = { json: string; valueBytes: number; sizeBytes: number };

/** Serializes a checked value; size_bytes = UTF-8 bytes of the key + of JSON.stringify(value). */
export function prepareValue(
  key: string,
  value: unknown,
  maxValueBytes: number,
  where: string,
  details?: Record<string, unknown>,
): PreparedValue {
  const problem = valueProblem(value);
  if (problem !== undefined) throw fail("INVALID_REQUEST", `${where}: ${problem}`, details);
  const json = JSON.stringify(value);
  const valueBytes = utf8Length(json);
  if (valueBytes > maxValueBytes) {
    throw fail("VALUE_TOO_LARGE", `${where}: the value is ${valueBytes} bytes, over the limit of ${maxValueBytes}`, {
      ...details,
      key,
      limit: maxValueBytes,
      size: valueBytes,
    });
  }
  return { json, valueBytes, sizeBytes: valueBytes + utf8Length(key) };
}

/**
 * The canonical text of a value read from jsonb alone (a row written before value_json
 * existed, or since by the previous release): JSON.stringify of it parsed, so numbers read as JavaScript writes them (jsonb
 * prints 5e-324 with 324 digits) and the text is exactly as long as the size counted when it
 * was written. Object members stay in jsonb's order: the order written was never kept.
 */
export const canonicalFromJsonb = (jsonbText: string): string => JSON.stringify(JSON.parse(jsonbText));

// The contract's rules for namespaces and keys (spec section 4), the prefix range of a list,
// and the list cursor. No I/O here: unit-tested without a database.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { type AppError, fail } from "../errors.ts";

const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
// U+0000–U+001F and U+007F
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters refused
const CONTROL = /[\u0000-\u001f\u007f]/;
export const MAX_KEY_BYTES = 512;

/** UTF-8 bytes of `s`, counted without encoding it (an encode of each 64 KiB value was a
 * tenth of a bulk-put's CPU). A lone surrogate counts 3 bytes, as U+FFFD when encoded. */
export const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");

export function checkNamespace(namespace: string): string {
  if (!NAMESPACE.test(namespace)) {
    throw fail("INVALID_NAMESPACE", "namespace must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$");
  }
  return namespace;
}

/** Why a key is refused, or undefined when it is valid. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== "string" || key.length === 0) return "a key is a non-empty string";
  if (!key.isWellFormed()) return "a key must be valid UTF-8 (no unpaired surrogates)";
  if (utf8Length(key) > MAX_KEY_BYTES) return `a key is at most ${MAX_KEY_BYTES} bytes of UTF-8`;
  if (CONTROL.test(key)) return "a key may not hold control characters (U+0000–U+001F, U+007F)";
  if (key === "." || key === "..") return 'a key may not be "." or ".." (URLs cannot address them)';
  return undefined;
}

export function checkKey(key: unknown): string {
  const problem = keyProblem(key);
  if (problem !== undefined) throw fail("INVALID_KEY", problem);
  return key as string;
}

/**
 * Decodes one path segment exactly once. An invalid escape (`%ZZ`, a lone `%`, bytes that
 * are not UTF-8) is refused rather than replaced.
 */
export function decodeSegment(raw: string, code: "INVALID_KEY" | "INVALID_NAMESPACE"): string {
  // nothing to decode without a `%` (decodeURIComponent costs Bun ~0.8 µs even then)
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw fail(code, `the ${code === "INVALID_KEY" ? "key" : "namespace"} is not valid percent-encoded UTF-8`);
  }
}

const MAX_CODE_POINT = 0x10ffff;

/**
 * The exclusive upper bound of the keys that start with `prefix`, in byte order: the prefix
 * with its last code point below U+10FFFF raised by one (UTF-8 keeps code point order byte
 * for byte). Lets the list use an index range instead of filtering the whole namespace.
 */
export function prefixUpperBound(prefix: string): string {
  const points = Array.from(prefix);
  for (let i = points.length - 1; i >= 0; i--) {
    const cp = points[i]?.codePointAt(0) ?? MAX_CODE_POINT;
    if (cp < MAX_CODE_POINT) {
      const next = cp === 0xd7ff ? 0xe000 : cp + 1; // skip the surrogate range
      return points.slice(0, i).join("") + String.fromCodePoint(next);
    }
  }
  // The prefix is empty or all U+10FFFF: no key of at most 512 bytes reaches this bound.
  return prefix + String.fromCodePoint(MAX_CODE_POINT).repeat(MAX_KEY_BYTES / 4 + 1);
}

/**
 * The list cursor: the last key of a page, bound to the install, namespace and prefix it was
 * made for. It is a position, not a secret: whatever it says, a query only ever reads the
 * token's install. Binding it lets a client's mistake (another namespace's cursor) fail
 * loudly instead of returning a wrong page.
 */
type CursorScope = { tenantId: string; installId: string; namespace: string; prefix: string };

const scopeTag = (s: CursorScope) =>
  createHash("sha256")
    .update(JSON.stringify([s.tenantId, s.installId, s.namespace, s.prefix]))
    .digest("base64url")
    .slice(0, 16);

/** A JSON value as an opaque cursor: base64url of its JSON text. */
export const encodeOpaque = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** The JSON value of an opaque cursor (encodeOpaque), or undefined when it is not one: over
 * 4,096 characters, not base64url, not the canonical encoding (base64url decoding would
 * otherwise ignore trailing junk) or not JSON. */
export function decodeOpaque(cursor: string): unknown {
  if (cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (Buffer.from(text, "utf8").toString("base64url") !== cursor) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function encodeCursor(scope: CursorScope, lastKey: string): string {
  return encodeOpaque({ v: 1, s: scopeTag(scope), k: lastKey });
}

export function decodeCursor(scope: CursorScope, cursor: string): string {
  const bad = (): AppError => fail("INVALID_REQUEST", "cursor is not valid for this install, namespace and prefix");
  const c = decodeOpaque(cursor) as { v?: unknown; s?: unknown; k?: unknown } | null | undefined;
  if (c === undefined || c === null || typeof c !== "object" || c.v !== 1 || c.s !== scopeTag(scope)) throw bad();
  if (keyProblem(c.k) !== undefined) throw bad();
  return c.k as string;
}

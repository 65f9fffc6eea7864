// New values computed from stored ones: a JSON Merge Patch (RFC 7396) and an increment at a
// JSON Pointer (RFC 6901). Pure: unit-tested without a database. The stored value is read
// under the install's lock (records.state_values) and the result goes on as a put op like any
// other (sized, validated against the namespace's schema, charged).
import { fail } from "../errors.ts";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Sets an own member, "__proto__" included (JSON.parse makes it an own member; assigning it
 * would set the prototype instead). */
const setMember = (object: Record<string, unknown>, name: string, value: unknown) =>
  Object.defineProperty(object, name, { value, writable: true, enumerable: true, configurable: true });

/** RFC 7396: a non-object patch replaces the target; an object patch is merged member by
 * member, a null member removing it. Builds a new value (the target is not changed). Members
 * keep the target's order, new members come after, in the patch's order. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [name, member] of Object.entries(patch)) {
    if (member === null) delete out[name];
    else setMember(out, name, mergePatch(Object.hasOwn(out, name) ? out[name] : undefined, member));
  }
  return out;
}

/** The reference tokens of a JSON Pointer ("" is the whole value), or a 400 naming `where`. */
export function parsePointer(pointer: string, where: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw fail("INVALID_REQUEST", `${where}: a JSON Pointer is "" or starts with "/"`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~(?![01])/.test(token)) throw fail("INVALID_REQUEST", `${where}: "~" must be followed by 0 or 1`);
      return token.replaceAll("~1", "/").replaceAll("~0", "~");
    });
}

/** Why an increment cannot apply to the current value (a 409 naming the op). */
export type IncrementConflict = { reason: "not_a_number" | "not_an_object" | "not_finite"; message: string };

/**
 * Adds `by` to the number at `path` of `current` (undefined: no record). A missing target is
 * created as `by`, missing intermediate objects along the path as objects; an intermediate
 * that is not an object (an array, a string…) or a target that is not a number is a conflict,
 * and so is a sum that is no longer a finite double.
 */
export function increment(
  current: unknown,
  path: readonly string[],
  by: number,
): { ok: true; value: unknown } | { ok: false; conflict: IncrementConflict } {
  const bump = (n: unknown, at: string): { ok: true; value: number } | { ok: false; conflict: IncrementConflict } => {
    if (n === undefined) return { ok: true, value: by };
    if (typeof n !== "number") {
      return { ok: false, conflict: { reason: "not_a_number", message: `the value at "${at}" is not a number` } };
    }
    const sum = n + by;
    if (!Number.isFinite(sum)) {
      return { ok: false, conflict: { reason: "not_finite", message: `the sum at "${at}" is not a finite number` } };
    }
    return { ok: true, value: sum };
  };
  const pointerOf = (tokens: readonly string[]) =>
    tokens.map((t) => `/${t.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");

  if (path.length === 0) return bump(current, "");
  const root: Record<string, unknown> = current === undefined ? {} : (current as Record<string, unknown>);
  if (!isObject(root)) {
    return { ok: false, conflict: { reason: "not_an_object", message: `the value at "" is not an object` } };
  }
  const out: Record<string, unknown> = { ...root };
  let node = out;
  for (let i = 0; i < path.length - 1; i++) {
    const token = path[i] as string;
    const next = Object.hasOwn(node, token) ? node[token] : undefined;
    if (next === undefined) setMember(node, token, {});
    else if (!isObject(next)) {
      const at = pointerOf(path.slice(0, i + 1));
      return { ok: false, conflict: { reason: "not_an_object", message: `the value at "${at}" is not an object` } };
    } else setMember(node, token, { ...next });
    node = node[token] as Record<string, unknown>;
  }
  const last = path[path.length - 1] as string;
  const bumped = bump(Object.hasOwn(node, last) ? node[last] : undefined, pointerOf(path));
  if (!bumped.ok) return bumped;
  setMember(node, last, bumped.value);
  return { ok: true, value: out };
}

// What validating a value against a tenant's schema can cost at most, found from the schema
// alone, before it is accepted (spec section 18: at most 50 ms of CPU for any value within
// the size limits).
//
// The model. A schema is a graph of subschemas ($ref edges included). Keywords either apply
// subschemas to the same instance node ("in place": allOf, anyOf, oneOf, not, if/then/else,
// dependentSchemas, $ref, $dynamicRef) or to its children ("descending": properties,
// patternProperties, additionalProperties, items, prefixItems, contains, propertyNames,
// unevaluated*). W[k](S) bounds the work done on one instance node k levels below a node S is
// applied to: W[0] is S's own keywords plus its in-place closure; W[k] adds, per descending
// keyword, the costliest subschema one child can meet (a child matches one property name but
// may match every patternProperties entry). Some keywords cost in proportion to the instance
// node's size instead (pattern, minLength, uniqueItems, unevaluated*): L[k] bounds those per
// byte. A value of B bytes has at most B/2+1 nodes, and the sizes of all nodes at one depth
// add up to at most B, so validation costs at most
//     W[0](root) + B/2 · max_k≥1 W[k](root)  +  B · Σ_k L[k](root)       work units,
// with k up to the 32 nested levels a value may have (and its object keys one below).
// A unit is about one keyword check; UNIT_NS (bench/README.md, "Schema validation cost")
// turns units into time. Exponential schemas (anyOf of $refs to anyOf of $refs …) come out
// as huge figures and are refused; a $ref cycle that never descends into the value would
// recurse forever and is refused outright.
import { MAX_VALUE_DEPTH } from "./values.ts";

export const LEVELS = MAX_VALUE_DEPTH + 2;

type Json = unknown;
type Obj = Record<string, Json>;

type Node = {
  pointer: string;
  base: string;
  /** work per application, independent of the instance's size */
  weight: number;
  /** work per application per byte of the instance node */
  linear: number;
  /** the keyword that makes weight or linear large, for the error message */
  heaviest: string;
  inPlace: Array<{ keyword: string; node: Node }>;
  /** descending keywords: per group, the child meets one of them (max) or all (sum) */
  groups: Array<{ keyword: string; nodes: Node[]; each: "one" | "all"; side: 0 | 1 }>;
  raw: Obj | boolean;
};

export type CostProblem = { keyword: string; pointer: string; message: string };

const isObj = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isSchema = (v: Json): v is Obj | boolean => isObj(v) || typeof v === "boolean";
const escapePointer = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
const byteWeight = (v: Json) => (typeof v === "object" && v !== null ? JSON.stringify(v).length / 8 : 1);

/** Work per input character of one RE2 pattern: grows with the compiled program's size. */
const patternWeight = (p: string) => 2 + p.length / 256;
/** Applying a subschema in place (a branch, a $ref) costs a call and, when it fails, an error. */
const APPLY = 8;

const IN_PLACE_ONE = ["not", "if", "then", "else"];
const IN_PLACE_MANY = ["allOf", "anyOf", "oneOf"];
const CHILD_ONE = [
  "items",
  "additionalItems",
  "contains",
  "unevaluatedItems",
  "additionalProperties",
  "unevaluatedProperties",
  "propertyNames",
];
/** 0: the keyword applies to an array's items, 1: to an object's members (or names) */
const side = (keyword: string): 0 | 1 => (/Items|^items$|^contains$|^prefixItems$/.test(keyword) ? 0 : 1);
const LINEAR_KEYWORDS = ["minLength", "maxLength", "uniqueItems", "unevaluatedItems", "unevaluatedProperties"];

const DEFAULT_BASE = "https://schema.invalid/root.json";

function resolveUrl(ref: string, base: string): URL | undefined {
  try {
    return new URL(ref, base);
  } catch {
    return undefined;
  }
}

/** The base URI inside a schema: its $id resolved against the enclosing base. */
function baseOf(schema: Obj, base: string): string {
  if (typeof schema.$id !== "string") return base;
  const url = resolveUrl(schema.$id, base);
  if (url === undefined) return base;
  url.hash = "";
  return url.href;
}

/** decodeURIComponent that answers undefined instead of throwing on a bad escape. */
function decoded(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function pointerGet(root: Json, fragment: string): Json {
  let at: Json = root;
  for (const raw of fragment.split("/").slice(1)) {
    const part = decoded(raw)?.replaceAll("~1", "/").replaceAll("~0", "~");
    if (part === undefined) return undefined;
    if (Array.isArray(at)) at = at[Number(part)];
    else if (isObj(at)) at = Object.hasOwn(at, part) ? at[part] : undefined;
    else return undefined;
  }
  return at;
}

class Graph {
  private readonly nodes = new Map<object, Node>();
  private readonly booleans = new Map<boolean, Node>();
  private readonly ids = new Map<string, { raw: Json; pointer: string; base: string }>();
  private readonly anchors = new Map<string, { raw: Json; pointer: string; base: string }>();
  private readonly dynamicAnchors = new Map<string, Array<{ raw: Json; pointer: string; base: string }>>();
  private readonly refs: Array<{ node: Node; keyword: string; ref: string }> = [];

  all(): Node[] {
    return [...this.nodes.values(), ...this.booleans.values()];
  }

  constructor(readonly root: Json) {}

  /** First pass: every $id, $anchor and $dynamicAnchor, so that $refs can be resolved. */
  index(schema: Json, pointer: string, base: string) {
    if (!isObj(schema)) return;
    const here = baseOf(schema, base);
    if (typeof schema.$id === "string") this.ids.set(here, { raw: schema, pointer, base: here });
    if (typeof schema.$anchor === "string")
      this.anchors.set(`${here}#${schema.$anchor}`, { raw: schema, pointer, base: here });
    if (typeof schema.$dynamicAnchor === "string") {
      const list = this.dynamicAnchors.get(schema.$dynamicAnchor) ?? [];
      list.push({ raw: schema, pointer, base: here });
      this.dynamicAnchors.set(schema.$dynamicAnchor, list);
      this.anchors.set(`${here}#${schema.$dynamicAnchor}`, { raw: schema, pointer, base: here });
    }
    for (const [k, v] of Object.entries(schema)) {
      if (k === "enum" || k === "const" || k === "default" || k === "examples") continue;
      if (Array.isArray(v)) {
        for (const [i, item] of v.entries()) this.index(item, `${pointer}/${escapePointer(k)}/${i}`, here);
      } else if (isObj(v)) this.index(v, `${pointer}/${escapePointer(k)}`, here);
    }
  }

  node(schema: Obj | boolean, pointer: string, base: string): Node {
    if (typeof schema === "boolean") {
      const known = this.booleans.get(schema);
      if (known !== undefined) return known;
      const n: Node = { pointer, base, weight: 1, linear: 0, heaviest: "", inPlace: [], groups: [], raw: schema };
      this.booleans.set(schema, n);
      return n;
    }
    const known = this.nodes.get(schema);
    if (known !== undefined) return known;
    const here = baseOf(schema, base);
    const n: Node = { pointer, base: here, weight: 1, linear: 0, heaviest: "", inPlace: [], groups: [], raw: schema };
    this.nodes.set(schema, n);
    const at = (k: string) => `${pointer}/${escapePointer(k)}`;
    let heaviestCost = 0;
    const cost = (keyword: string, weight: number, linear = 0) => {
      n.weight += weight;
      n.linear += linear;
      if (weight + linear * 64 > heaviestCost) {
        heaviestCost = weight + linear * 64;
        n.heaviest = keyword;
      }
    };
    for (const [k, v] of Object.entries(schema)) {
      if (IN_PLACE_ONE.includes(k) && isSchema(v)) {
        n.inPlace.push({ keyword: k, node: this.node(v, at(k), here) });
        cost(k, APPLY);
      } else if (IN_PLACE_MANY.includes(k) && Array.isArray(v)) {
        v.forEach((s, i) => {
          if (isSchema(s)) n.inPlace.push({ keyword: k, node: this.node(s, `${at(k)}/${i}`, here) });
        });
        cost(k, APPLY * v.length);
      } else if ((k === "dependentSchemas" || k === "dependencies") && isObj(v)) {
        for (const [name, s] of Object.entries(v)) {
          if (isSchema(s)) {
            n.inPlace.push({ keyword: k, node: this.node(s, `${at(k)}/${escapePointer(name)}`, here) });
            cost(k, APPLY);
          } else if (Array.isArray(s)) cost(k, s.length);
        }
        cost(k, Object.keys(v).length);
      } else if ((k === "$ref" || k === "$dynamicRef") && typeof v === "string") {
        this.refs.push({ node: n, keyword: k, ref: v });
        cost(k, APPLY);
      } else if (CHILD_ONE.includes(k) && isSchema(v)) {
        n.groups.push({ keyword: k, nodes: [this.node(v, at(k), here)], each: "all", side: side(k) });
        cost(k, 1, LINEAR_KEYWORDS.includes(k) ? 1 : 0);
      } else if ((k === "prefixItems" || k === "items") && Array.isArray(v)) {
        const nodes = v.filter(isSchema).map((s, i) => this.node(s, `${at(k)}/${i}`, here));
        n.groups.push({ keyword: k, nodes, each: "one", side: 0 });
        cost(k, 1);
      } else if (k === "properties" && isObj(v)) {
        const nodes = Object.entries(v)
          .filter(([, s]) => isSchema(s))
          .map(([name, s]) => this.node(s as Obj | boolean, `${at(k)}/${escapePointer(name)}`, here));
        n.groups.push({ keyword: k, nodes, each: "one", side: 1 });
        cost(k, nodes.length);
      } else if (k === "patternProperties" && isObj(v)) {
        let perChar = 0;
        for (const [p, s] of Object.entries(v)) {
          perChar += patternWeight(p);
          if (isSchema(s)) {
            n.groups.push({
              keyword: k,
              nodes: [this.node(s, `${at(k)}/${escapePointer(p)}`, here)],
              each: "all",
              side: 1,
            });
          }
        }
        cost(k, Object.keys(v).length, perChar);
      } else if (k === "pattern" && typeof v === "string") {
        cost(k, 1, patternWeight(v));
      } else if (k === "enum" && Array.isArray(v)) {
        cost(
          k,
          v.reduce((sum: number, e) => sum + byteWeight(e), 0),
        );
      } else if (k === "const") {
        cost(k, byteWeight(v));
      } else if ((k === "required" || k === "dependentRequired") && (Array.isArray(v) || isObj(v))) {
        cost(k, JSON.stringify(v).length / 4);
      } else if (k === "uniqueItems") {
        cost(k, 1, 48); // every item's canonical JSON: ~48 units a byte (bench/README.md)
      } else if (LINEAR_KEYWORDS.includes(k)) {
        cost(k, 1, 1);
      } else {
        cost(k, 1);
      }
    }
    return n;
  }

  /** Second pass: $ref edges; an unresolvable one is a problem. */
  link(): CostProblem | undefined {
    for (let i = 0; i < this.refs.length; i++) {
      const { node, keyword, ref } = this.refs[i] as { node: Node; keyword: string; ref: string };
      const targets = this.resolve(ref, node.base, keyword === "$dynamicRef");
      if (targets.length === 0) {
        return {
          keyword,
          pointer: `${node.pointer}/${keyword}`,
          message: `${keyword} "${ref}" does not resolve to a part of this schema (remote JSON Schema references are not loaded)`,
        };
      }
      for (const t of targets) {
        if (isSchema(t.raw)) node.inPlace.push({ keyword, node: this.node(t.raw, t.pointer, t.base) });
      }
    }
    return undefined;
  }

  private resolve(ref: string, base: string, dynamic: boolean) {
    const url = resolveUrl(ref, base);
    if (url === undefined) return [];
    const fragment = decoded(url.hash.slice(1));
    if (fragment === undefined) return [];
    url.hash = "";
    const found: Array<{ raw: Json; pointer: string; base: string }> = [];
    const doc =
      url.href === DEFAULT_BASE ? { raw: this.root, pointer: "", base: DEFAULT_BASE } : this.ids.get(url.href);
    if (doc !== undefined) {
      if (fragment === "" || fragment.startsWith("/")) {
        const raw = pointerGet(doc.raw, fragment);
        if (raw !== undefined) found.push({ raw, pointer: doc.pointer + fragment, base: doc.base });
      } else {
        const anchored = this.anchors.get(`${url.href}#${fragment}`);
        if (anchored !== undefined) found.push(anchored);
      }
    }
    // $dynamicRef may land on any $dynamicAnchor of that name in the dynamic scope: count all
    if (dynamic && fragment !== "" && !fragment.startsWith("/"))
      found.push(...(this.dynamicAnchors.get(fragment) ?? []));
    return found;
  }
}

type Costs = { w: number[]; l: number[] };

/**
 * The validation cost bound of a schema in work units for a value of up to `valueBytes`, or
 * the problem that makes it unbounded. `budget`: the figure over which the schema is refused,
 * naming the costliest location.
 */
export function schemaCost(
  schema: Json,
  valueBytes: number,
  budget: number,
): { units: number; subschemas: number } | { problem: CostProblem } {
  if (!isSchema(schema)) return { units: 1, subschemas: 1 };
  const graph = new Graph(schema);
  graph.index(schema, "", DEFAULT_BASE);
  const root = graph.node(schema, "", DEFAULT_BASE);
  const broken = graph.link();
  if (broken !== undefined) return { problem: broken };

  // the in-place edges must form no cycle; order the nodes so that in-place targets come first
  const order: Node[] = [];
  const state = new Map<Node, 1 | 2>();
  let cycle: Node | undefined;
  const visit = (start: Node) => {
    const stack: Array<[Node, number]> = [[start, 0]];
    while (stack.length > 0 && cycle === undefined) {
      const top = stack[stack.length - 1] as [Node, number];
      const [n, i] = top;
      if (i === 0) {
        if (state.get(n) === 2) {
          stack.pop();
          continue;
        }
        state.set(n, 1);
      }
      const next = n.inPlace[i]?.node;
      if (next === undefined) {
        state.set(n, 2);
        order.push(n);
        stack.pop();
      } else {
        top[1] = i + 1;
        if (state.get(next) === 1) cycle = next;
        else if (state.get(next) !== 2) stack.push([next, 0]);
      }
    }
  };
  for (const n of graph.all()) visit(n);
  if (cycle !== undefined) {
    return {
      problem: {
        keyword: "$ref",
        pointer: cycle.pointer,
        message: `the schema at "${cycle.pointer}" reaches itself through $ref without descending into the value, so validation would never end`,
      },
    };
  }
  // level by level: level k of a node reads level k-1 of its descending targets. An instance
  // node is an array or an object, never both, so at levels below 0 the keywords for array
  // children and those for object children are bounded apart and the larger one counts
  // (an anyOf of an items branch and an additionalProperties branch does not double).
  const costs = new Map<Node, Costs>(order.map((n) => [n, { w: [], l: [] }]));
  const of = (n: Node) => costs.get(n) as Costs;
  const byParent = new Map<Node, Array<{ w: number; l: number }>>();
  for (let k = 0; k < LEVELS; k++) {
    for (const n of order) {
      const sides = [0, 1].map((side) => {
        let w = k === 0 ? n.weight : 0;
        let l = k === 0 ? n.linear : 0;
        if (k > 0) {
          for (const group of n.groups) {
            if (group.side !== side) continue;
            let gw = 0;
            let gl = 0;
            for (const child of group.nodes) {
              const cw = of(child).w[k - 1] as number;
              const cl = of(child).l[k - 1] as number;
              gw = group.each === "one" ? Math.max(gw, cw) : gw + cw;
              gl = group.each === "one" ? Math.max(gl, cl) : gl + cl;
            }
            w += gw;
            l += gl;
          }
          for (const { node } of n.inPlace) {
            const inner = (byParent.get(node) as Array<{ w: number; l: number }>)[side] as { w: number; l: number };
            w += inner.w;
            l += inner.l;
          }
        } else {
          for (const { node } of n.inPlace) {
            w += of(node).w[0] as number;
            l += of(node).l[0] as number;
          }
        }
        return { w, l };
      });
      byParent.set(n, sides);
      const [a, o] = sides as [{ w: number; l: number }, { w: number; l: number }];
      of(n).w[k] = Math.max(a.w, o.w);
      of(n).l[k] = Math.max(a.l, o.l);
    }
  }
  const total = (n: Node) => {
    const c = of(n);
    const nodes = Math.floor(valueBytes / 2) + 1;
    // the root is one node; every other level shares what is left
    return (c.w[0] as number) + (nodes - 1) * Math.max(...c.w.slice(1)) + valueBytes * c.l.reduce((a, b) => a + b, 0);
  };
  const units = total(root);
  if (units <= budget) return { units, subschemas: order.length };
  // below the root a node may be applied to every node of the value
  const anywhere = (n: Node) =>
    (Math.floor(valueBytes / 2) + 1) * Math.max(...of(n).w) + valueBytes * of(n).l.reduce((a, b) => a + b, 0);
  const culprit = blame(root, anywhere, budget);
  return {
    problem: {
      keyword: culprit.keyword,
      pointer: culprit.pointer,
      message: `validating a value of up to ${valueBytes} bytes against this schema could take too long; the costliest part is "${culprit.keyword}" at "${culprit.pointer}": simplify it or lower maxValueBytes`,
    },
  };
}

/** The deepest node whose own bound is still over the budget, and its costliest keyword. */
function blame(root: Node, total: (n: Node) => number, budget: number): { keyword: string; pointer: string } {
  let at = root;
  const seen = new Set<Node>();
  for (let step = 0; step < 10_000; step++) {
    seen.add(at);
    const inner = [...at.inPlace.map((e) => e.node), ...at.groups.flatMap((g) => g.nodes)].filter((c) => !seen.has(c));
    const over = inner.find((c) => total(c) > budget);
    if (over === undefined) break;
    at = over;
  }
  // over the budget only together: the keyword that fans out, else the heaviest one
  const fan = [...new Set(at.inPlace.map((e) => e.keyword))].sort(
    (a, b) => at.inPlace.filter((e) => e.keyword === b).length - at.inPlace.filter((e) => e.keyword === a).length,
  )[0];
  const keyword =
    at.heaviest !== "" && (fan === undefined || at.weight + at.linear * 64 > at.inPlace.length * 8)
      ? at.heaviest
      : (fan ?? at.heaviest);
  return { keyword, pointer: keyword === "" ? at.pointer : `${at.pointer}/${escapePointer(keyword)}` };
}

// Compile cost. Ajv turns a schema into JavaScript source and compiles that; its time grows
// with the code generated, which a static count bounds before anything is compiled: units per
// subschema that generates code, per keyword, per element of the lists Ajv unrolls (each name
// of a `dependentRequired` list, short `required` and `enum` lists, `type` lists), per pattern
// (each is an RE2 program) and per `$ref` (each target is a function of its own), plus the
// schema's bytes (the meta-schema check and Ajv's traversal). Weights measured per family
// with `bun bench/schemas/compile.ts` (bench/README.md, "Schema compile cost").
const SCHEMA_ONE = [
  "not",
  "if",
  "then",
  "else",
  "items",
  "additionalItems",
  "contains",
  "additionalProperties",
  "unevaluatedProperties",
  "unevaluatedItems",
  "propertyNames",
];
const SCHEMA_LIST = ["allOf", "anyOf", "oneOf", "prefixItems", "items"];
const SCHEMA_MAP = ["properties", "patternProperties", "dependentSchemas", "$defs", "definitions", "dependencies"];
/** Ajv's loopRequired and loopEnum (src/records/validator.ts): longer lists are looped over. */
export const UNROLLED = 16;
/** A subschema with keywords: a scope, error paths, the code of its keywords. */
const SUBSCHEMA_UNITS = 12;
const KEYWORD_UNITS = 2;
/** Each element of an unrolled list: a property test and an error object. */
const ELEMENT_UNITS = 2;
/** A pattern is an RE2 program compiled with the schema; longer ones take longer. */
const patternUnits = (p: string) => 40 + Math.ceil(p.length / 8);
/** A $ref's target is a validating function of its own. */
const REF_UNITS = 40;
/** Schema bytes per unit: the meta-schema check and Ajv's walks are linear in the JSON. */
const BYTES_PER_UNIT = 64;

/**
 * Compile units of a schema: a static bound of the code Ajv generates for it, in units of
 * about the same compile time each (MAX_COMPILE_UNITS in src/records/validator.ts).
 */
export function compileUnits(schema: Json): number {
  let units = Math.ceil(JSON.stringify(schema).length / BYTES_PER_UNIT);
  const stack: Json[] = [schema];
  while (stack.length > 0) {
    const s = stack.pop();
    if (!isObj(s)) {
      units += 1;
      continue;
    }
    const keys = Object.keys(s);
    units += keys.length === 0 ? 1 : SUBSCHEMA_UNITS;
    for (const k of keys) {
      const v = s[k];
      units += KEYWORD_UNITS;
      if (SCHEMA_ONE.includes(k) && isSchema(v)) stack.push(v);
      else if (SCHEMA_LIST.includes(k) && Array.isArray(v)) {
        units += v.length;
        stack.push(...v);
      } else if (SCHEMA_MAP.includes(k) && isObj(v)) {
        for (const [name, member] of Object.entries(v)) {
          // a member's test, and the evaluated-properties bookkeeping unevaluated* adds
          units += 2;
          if (k === "patternProperties") units += patternUnits(name);
          if (Array.isArray(member)) units += ELEMENT_UNITS * member.length;
          else stack.push(member);
        }
      } else if (k === "dependentRequired" && isObj(v)) {
        // per entry a property test and an error object naming its list; per name a test
        for (const list of Object.values(v)) units += 8 + (Array.isArray(list) ? 2 * ELEMENT_UNITS * list.length : 0);
      } else if (k === "required" && Array.isArray(v)) {
        // unrolled, each name's test and its error object take more code than other lists'
        if (v.length < UNROLLED) units += 5 * v.length;
      } else if ((k === "enum" || k === "type") && Array.isArray(v)) {
        if (v.length < UNROLLED) units += ELEMENT_UNITS * v.length;
      } else if (k === "pattern" && typeof v === "string") {
        units += patternUnits(v);
      } else if ((k === "$ref" || k === "$dynamicRef") && typeof v === "string") {
        units += REF_UNITS;
      }
    }
  }
  return units;
}

// The synthetic population: tenants × installs × namespaces, and values built from the
// fixture templates in bench/fixtures (settings, cache entries, sync cursors, per-user
// state, inboxes). Everything is a function of the seed and the ids.
//
// Ids carry their integers (tenant 7, install 2 → "<prefix>-t007-i2"; key 12 of settings →
// "pref.12") so the pgbench ceiling script can address the very same rows.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { derive, type Random } from "./random.ts";

export const FIXTURES_DIR = fileURLToPath(new URL("../fixtures/", import.meta.url));
export const MAX_VALUE_BYTES = 65_536;

export type Fixture = {
  name: string;
  namespace: string;
  keyPrefix: string;
  sizeKiB: [number, number];
  base: unknown;
  repeat: { field: string; item: unknown };
};

export function loadFixtures(dir = FIXTURES_DIR): Fixture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ name: f.slice(0, -5), ...JSON.parse(readFileSync(join(dir, f), "utf8")) }));
}

export type Install = { tenantId: string; extensionId: string; installId: string; index: number };

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** installs tenants × perTenant, in a fixed order; install i belongs to tenant floor(i / perTenant). */
export function population(prefix: string, tenants: number, perTenant: number): Install[] {
  const out: Install[] = [];
  for (let t = 0; t < tenants; t++) {
    for (let i = 0; i < perTenant; i++) {
      out.push({
        tenantId: `${prefix}-t${pad(t, 3)}`,
        extensionId: `${prefix}-ext${i}`,
        installId: `${prefix}-t${pad(t, 3)}-i${i}`,
        index: t * perTenant + i,
      });
    }
  }
  return out;
}

export const keyOf = (fixture: Fixture, n: number) => `${fixture.keyPrefix}${n}`;

const WORDS = (
  "alpha bravo cedar delta ember fjord garnet harbor iris juniper kestrel lumen maple nectar onyx " +
  "pylon quartz raven sable tundra umber vesper willow xenon yarrow zephyr"
).split(" ");

function fill(template: unknown, rnd: Random): unknown {
  if (typeof template === "string") {
    // a whole-string placeholder for a number or boolean keeps its JSON type
    const only = /^\{(int:(\d+):(\d+)|bool)\}$/.exec(template);
    if (only) return only[1] === "bool" ? rnd.next() < 0.5 : rnd.int(Number(only[2]), Number(only[3]));
    return template.replace(/\{([a-z0-9]+)(?::([^}]*))?\}/g, (_, kind: string, arg: string | undefined) => {
      switch (kind) {
        case "word":
          return rnd.pick(WORDS);
        case "pick":
          return rnd.pick((arg ?? "").split(","));
        case "int": {
          const [lo, hi] = (arg ?? "0:9").split(":").map(Number);
          return String(rnd.int(lo ?? 0, hi ?? 9));
        }
        case "bool":
          return String(rnd.next() < 0.5);
        case "hex6":
          return rnd.int(0, 0xffffff).toString(16).padStart(6, "0");
        case "uuid": {
          const h = () => rnd.int(0, 0xffff).toString(16).padStart(4, "0");
          return `${h()}${h()}-${h()}-4${h().slice(1)}-a${h().slice(1)}-${h()}${h()}${h()}`;
        }
        case "ts":
          return new Date(Date.UTC(2026, 0, 1) + rnd.int(0, 300 * 86_400) * 1000).toISOString();
        default:
          return `{${kind}}`;
      }
    });
  }
  if (Array.isArray(template)) return template.map((t) => fill(t, rnd));
  if (template !== null && typeof template === "object") {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, fill(v, rnd)]));
  }
  return template;
}

/** A target size in bytes, log-uniform within the fixture's range: most values small, a long tail. */
export function targetBytes(fixture: Fixture, rnd: Random, capBytes = MAX_VALUE_BYTES): number {
  const [lo, hi] = fixture.sizeKiB;
  const bytes = Math.round(1024 * lo * (hi / lo) ** rnd.next());
  return Math.min(bytes, capBytes - 512);
}

/**
 * A value of about `bytes` UTF-8 bytes of JSON (within one repeated item of it, never over):
 * the fixture's base, its repeated field grown item by item.
 */
export function makeValue(fixture: Fixture, rnd: Random, bytes: number): unknown {
  const value = fill(fixture.base, rnd) as Record<string, unknown>;
  const list: unknown[] = [];
  value[fixture.repeat.field] = list;
  let size = JSON.stringify(value).length;
  for (let i = 0; i < 100_000 && size < bytes; i++) {
    const item = fill(fixture.repeat.item, rnd);
    const grow = JSON.stringify(item).length + (list.length === 0 ? 0 : 1);
    if (size + grow > bytes) break;
    list.push(item);
    size += grow;
  }
  return value;
}

/** The value of key n of a fixture in an install at a given version: deterministic. */
export function valueFor(seed: number, install: Install, fixture: Fixture, n: number, version = 0, cap?: number) {
  const rnd = derive(seed, `${install.installId}/${fixture.namespace}/${n}/${version}`);
  return makeValue(fixture, rnd, targetBytes(fixture, rnd, cap));
}

/** size_bytes as the service counts it: UTF-8 bytes of the key and of the value's JSON. */
export const sizeBytes = (key: string, value: unknown) =>
  Buffer.byteLength(key, "utf8") + Buffer.byteLength(JSON.stringify(value), "utf8");

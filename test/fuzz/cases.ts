// The fuzzer's request generator: every route, with valid parts mixed with hostile ones
// (bad escapes, control characters, overlong names, malformed or deep JSON, wrong types,
// __proto__ keys, oversize bodies and headers, wrong methods and content types, repeated
// query parameters). Deterministic for a seed, so a finding can be replayed.
import type { RawRequest } from "./raw-http.ts";

export type Tokens = { install: string; reader: string; admin: string };

export function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  return { next, int, pick, chance: (p: number) => next() < p };
}
export type Rng = ReturnType<typeof rng>;

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);

// path segments, already as they go on the wire
const NAMESPACES = [
  "fz",
  "fz2",
  "",
  ".",
  "..",
  "%",
  "%ZZ",
  "%FF",
  "%C0%AF",
  "%00",
  "a%2Fb",
  "__proto__",
  "constructor",
  "a".repeat(63),
  "a".repeat(64),
  "-x",
  "%E2%82",
  "%F0%9F%98%80",
  "x%20y",
  "\u00ff",
  "ns\u0001",
];
const KEYS = [
  "k",
  "k%2Fx",
  "%",
  "%ZZ",
  "%FF%FE",
  "%00",
  "%1F",
  "%7F",
  "%2E",
  "%2E%2E",
  ".",
  "..",
  "__proto__",
  "constructor",
  "prototype",
  `${"k".repeat(512)}`,
  `${"k".repeat(513)}`,
  "%E2%82%AC".repeat(171),
  "%ED%A0%80",
  "%C3%28",
  "a%5Cb%25c",
  "k".repeat(20_000),
  "%F4%90%80%80",
  "\u00e9",
  "%%%",
  "k?x",
  "k#x",
];
const NUMBERS = [
  "1e400",
  "-1e400",
  "1e-400",
  "123456789012345678901234567890",
  "-0",
  "0.1e1",
  "9007199254740993",
  "1E+2",
  "NaN",
  "Infinity",
  "0x10",
  "01",
  "1.",
  ".5",
  "-",
];
const STRINGS = [
  '"a\\u0000b"',
  '"\\ud800"',
  '"\\udc00x"',
  '"\\u0007"',
  '"\\x41"',
  '"é"',
  '"\\"',
  `"${"s".repeat(70_000)}"`,
];

function jsonValue(r: Rng, depth = 0): string {
  switch (r.int(depth > 3 ? 4 : 7)) {
    case 0:
      return r.pick(NUMBERS.slice(0, 9));
    case 1:
      return r.pick(STRINGS);
    case 2:
      return r.pick(["null", "true", "false", "0", '""', "{}", "[]"]);
    case 3:
      return String(r.int(1_000_000) - 500);
    case 4:
      return `[${Array.from({ length: r.int(4) }, () => jsonValue(r, depth + 1)).join(",")}]`;
    case 5: {
      const keys = ['"__proto__"', '"constructor"', '"a"', '"\\u0000"', '"prototype"', '"toString"', '"a"'];
      return `{${Array.from({ length: r.int(4) }, () => `${r.pick(keys)}:${jsonValue(r, depth + 1)}`).join(",")}}`;
    }
    default: {
      const d = r.pick([31, 32, 33, 35, 36, 200, 100_000]);
      return `${"[".repeat(d)}${r.chance(0.8) ? "]".repeat(d) : ""}`;
    }
  }
}

const keyJson = (r: Rng) =>
  r.pick([
    '"k"',
    '"k2"',
    '""',
    '"."',
    '".."',
    '"a\\u0000"',
    '"\\u001f"',
    '"\\u007f"',
    '"\\ud800"',
    "1",
    "null",
    "[]",
    `"${"k".repeat(513)}"`,
    '"__proto__"',
    '"constructor"',
  ]);

const field = (r: Rng) =>
  r.pick([
    '"ttlSeconds":1',
    '"ttlSeconds":0',
    '"ttlSeconds":"5"',
    '"ttlSeconds":1.5',
    '"ttlSeconds":31536001',
    '"ttlSeconds":1e400',
    '"expiresAt":"2999-01-01T00:00:00Z"',
    '"expiresAt":"yesterday"',
    '"expiresAt":"2000-01-01T00:00:00Z"',
    '"expiresAt":"2027-02-30T00:00:00Z"',
    '"expiresAt":"2027-06-01T23:59:60.12345678901234567890+23:59"',
    '"expiresAt":5',
    '"ifRevision":-1',
    '"ifRevision":1',
    '"ifRevision":1152921504606846976',
    '"ifRevision":"1"',
    '"ifAbsent":false',
    '"ifAbsent":true',
    '"__proto__":{"x":1}',
    '"constructor":{"prototype":{}}',
    '"extra":1',
    '"install_id":"other"',
  ]);

function bodyFor(r: Rng, route: string): string {
  const items = () =>
    Array.from(
      { length: r.pick([0, 1, 2, 3, 501]) },
      () => `{"key":${keyJson(r)},"value":${jsonValue(r)}${r.chance(0.4) ? `,${field(r)}` : ""}}`,
    ).join(",");
  const keys = () => Array.from({ length: r.pick([0, 1, 3, 1001]) }, () => keyJson(r)).join(",");
  switch (route) {
    case "put":
      return `{"value":${jsonValue(r)}${r.chance(0.4) ? `,${field(r)}` : ""}}`;
    case "bulk-put":
      return `{"items":[${items()}]}`;
    case "bulk-get":
      return `{"keys":[${keys()}]}`;
    case "bulk-delete":
      return r.chance(0.5) ? `{"keys":[${keys()}]}` : `{"items":[${items()}]}`;
    case "schema":
      return `{"jsonSchema":${r.pick(['{"type":"object"}', "true", '"x"', '{"$ref":"http://127.0.0.1:1/x"}', '{"type":1}', jsonValue(r)])}${r.chance(0.3) ? ',"defaultTtlSeconds":0' : ""}${r.chance(0.3) ? ',"maxValueBytes":1e400' : ""}}`;
    case "patch":
      return r.chance(0.5) ? `{"a":${jsonValue(r)},"b":null}` : jsonValue(r);
    case "atomic": {
      const op = () =>
        r.pick([
          `{"op":"set","namespace":"fz","key":${keyJson(r)},"value":${jsonValue(r)}}`,
          `{"op":"delete","namespace":"fz","key":${keyJson(r)}}`,
          `{"op":"increment","namespace":"fz","key":${keyJson(r)},"path":${r.pick(['""', '"/a/b"', '"a"', '"/~2"', '"/a~1b"', "1"])},"by":${r.pick(["1", "-0.5", "1e400", '"1"', "null"])}}`,
          `{"op":"merge","namespace":${r.pick(['"fz"', '"-bad"', "1"])},"key":${keyJson(r)},"patch":${jsonValue(r)}}`,
          `{"op":${r.pick(['"frob"', "null", "1"])}}`,
          jsonValue(r),
        ]);
      const check = () =>
        `{"namespace":"fz","key":${keyJson(r)},"revision":${r.pick(["null", "1", "0", '"1"', "1.5"])}}`;
      const list = (n: number, f: () => string) => Array.from({ length: n }, f).join(",");
      return `{${r.chance(0.5) ? `"checks":[${list(r.pick([0, 1, 2]), check)}],` : ""}"ops":[${list(r.pick([0, 1, 3, 501]), op)}]${r.chance(0.1) ? `,${field(r)}` : ""}}`;
    }
    case "limits":
      return `{"maxBytes":${r.pick(["1", "null", "-1", '"1"', "1e400", "9007199254740993"])}${r.chance(0.5) ? `,"maxRecords":${r.pick(["0", "null", "1.5"])}` : ""}}`;
    default:
      return jsonValue(r);
  }
}

/** Damages a well-formed body: truncates it, inserts raw bytes, or replaces it. */
function mangle(r: Rng, text: string): Uint8Array {
  const b = bytes(text);
  switch (r.int(6)) {
    case 0:
      return b.subarray(0, r.int(b.length + 1));
    case 1: {
      const at = r.int(b.length + 1);
      return new Uint8Array([...b.subarray(0, at), r.pick([0xff, 0xc0, 0x80, 0xed, 0x00, 0x1b]), ...b.subarray(at)]);
    }
    case 2:
      return new Uint8Array([0xef, 0xbb, 0xbf, ...b]);
    case 3:
      return bytes(r.pick(["", "{", "}", "[", "nul", '{"value":1,}', '{"value":1}{"value":2}', "\u0000"]));
    case 4:
      return bytes(`{"value":1,"value":${jsonValue(r)}}`);
    default:
      return b;
  }
}

const CONTENT_TYPES = [
  "application/json",
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/json; charset=latin1",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  "APPLICATION/JSON",
  "application/json;;",
  "",
  "application/jsonp",
  "application/json\u0001",
];

function query(r: Rng): string {
  const params = [
    "prefix=k",
    "prefix=%ZZ",
    "prefix=%00",
    `prefix=${"p".repeat(600)}`,
    "limit=1",
    "limit=0",
    "limit=-1",
    "limit=1001",
    "limit=1e3",
    "limit=abc",
    "limit=99999999999999999999",
    "cursor=abc",
    "cursor=",
    "cursor=%FF",
    `cursor=${Buffer.from('{"v":1,"s":"x","k":"k"}').toString("base64url")}`,
    "values=false",
    "values=maybe",
    "x=1",
    "limit=1&limit=2",
    "prefix=a&prefix=b",
    "%=1",
    "&&",
    "values",
  ];
  return Array.from({ length: r.int(4) }, () => r.pick(params)).join("&");
}

/** A change feed's query: cursors of every kind, filters, limits. */
function feedQuery(r: Rng): string {
  const params = [
    "since=now",
    "since=",
    "since=abc",
    "since=%FF",
    `since=${Buffer.from('[1,"x",5]').toString("base64url")}`,
    `since=${Buffer.from("[1]").toString("base64url")}`,
    `since=${"A".repeat(5000)}`,
    "namespace=fz",
    "namespace=bad%20ns",
    "namespace=",
    "prefix=k",
    "prefix=%00",
    "limit=1",
    "limit=0",
    "limit=1001",
    "limit=abc",
    "values=true",
    "values=maybe",
    "x=1",
    "since=now&since=now",
  ];
  return Array.from({ length: r.int(4) }, () => r.pick(params)).join("&");
}

export function nextRequest(r: Rng, tokens: Tokens): RawRequest {
  const ns = r.chance(0.6) ? "fz" : r.pick(NAMESPACES);
  const key = r.chance(0.5) ? r.pick(["k", "k2", "a%2Fb"]) : r.pick(KEYS);
  const tid = r.pick(["t1", "t%2F1", "%ZZ", "t".repeat(129), "t%201", ""]);
  const routes: Array<[string, string, string]> = [
    ["GET", `/v1/namespaces/${ns}/records/${key}`, ""],
    ["PUT", `/v1/namespaces/${ns}/records/${key}`, "put"],
    ["DELETE", `/v1/namespaces/${ns}/records/${key}`, ""],
    ["PATCH", `/v1/namespaces/${ns}/records/${key}`, "patch"],
    ["POST", "/v1/atomic", "atomic"],
    ["GET", `/v1/namespaces/${ns}/records?${query(r)}`, ""],
    ["POST", `/v1/namespaces/${ns}/bulk-get`, "bulk-get"],
    ["POST", `/v1/namespaces/${ns}/bulk-put`, "bulk-put"],
    ["POST", `/v1/namespaces/${ns}/bulk-delete`, "bulk-delete"],
    ["GET", "/v1/namespaces", ""],
    ["DELETE", `/v1/namespaces/${ns}`, ""],
    ["GET", "/v1/usage", ""],
    ["GET", `/v1/changes?${feedQuery(r)}`, ""],
    ["GET", `/v1/namespaces/${ns}/changes?${feedQuery(r)}`, ""],
    ["GET", `/v1/watch?${feedQuery(r)}`, ""],
    ["GET", `/v1/namespaces/${ns}/watch?${feedQuery(r)}`, ""],
    ["PUT", `/v1/namespaces/${ns}/schema`, "schema"],
    ["GET", `/v1/namespaces/${ns}/schema`, ""],
    ["DELETE", `/v1/namespaces/${ns}/schema`, ""],
    ["GET", `/admin/v1/tenants/${tid}/installs/i1/usage`, ""],
    ["PUT", `/admin/v1/tenants/${tid}/installs/${r.pick(["i1", "%00", "i".repeat(129)])}/limits`, "limits"],
    ["DELETE", `/admin/v1/tenants/${tid}/installs/i-purge`, ""],
    [
      "GET",
      r.pick(["/healthz", "/readyz", "/metrics", "/openapi.json", "/", "/v1", "/%ZZ", "//v1/usage", "/v1/usage/"]),
      "",
    ],
  ];
  let [method, path, kind] = r.pick(routes);
  if (r.chance(0.08)) method = r.pick(["PATCH", "OPTIONS", "HEAD", "TRACE", "POST", "PUT", "GET", "DELETE", "FOO"]);
  if (r.chance(0.05)) path += `?${query(r)}`;
  const headers: Array<[string, string]> = [];
  const auth = r.int(20);
  const token = path.startsWith("/admin") ? tokens.admin : auth === 0 ? tokens.reader : tokens.install;
  if (auth === 1) headers.push(["authorization", `Bearer ${"A".repeat(r.pick([10, 10_000]))}`]);
  else if (auth === 2) headers.push(["authorization", `bearer ${token}`]);
  else if (auth === 3) headers.push(["authorization", `Bearer ${token}`], ["authorization", `Bearer ${tokens.admin}`]);
  else if (auth !== 4) headers.push(["authorization", `Bearer ${r.chance(0.05) ? tokens.admin : token}`]);
  let body: Uint8Array | undefined;
  if (kind !== "" || r.chance(0.05)) {
    const text = r.chance(0.03) ? `{"value":"${"x".repeat(70_000)}"}` : bodyFor(r, kind);
    body = r.chance(0.3) ? mangle(r, text) : bytes(text);
    const type = r.chance(0.8)
      ? kind === "patch" && r.chance(0.5)
        ? "application/merge-patch+json"
        : "application/json"
      : r.pick(CONTENT_TYPES);
    if (type !== "") headers.push(["content-type", type]);
  }
  if (r.chance(0.1)) {
    headers.push(
      r.pick<[string, string]>([
        ["if-match", r.pick(['"1"', 'W/"1"', "*", '"abc"', '"99999999999999999999"', '"1", "2"', ""])],
        ["if-none-match", r.pick(["*", '"1"', "x"])],
        ["idempotency-key", r.pick(["fz-1", "fz-2", "", "bad key", "k".repeat(129), "\u00ff"])],
        ["x-request-id", r.pick(["id-1", "bad id", "x".repeat(200), "\u00ff"])],
        ["x-big", "h".repeat(r.pick([1000, 20_000, 200_000]))],
        ["content-length", "abc"],
        ["transfer-encoding", "chunked"],
      ]),
    );
  }
  const malformed =
    method === "FOO" ||
    [...path].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) >= 0x7f) ||
    headers.some(([k, v]) => k === "content-length" || k === "transfer-encoding" || v.length > 16_000);
  return { method, path, headers, body, malformed };
}

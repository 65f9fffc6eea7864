// Every /v1 and admin route answers what it declares: its 2xx and each 4xx/5xx status it
// documents are met over real HTTP, and each body is checked against the declared schema
// (the route's `response`, or for a body written as text, its OpenAPI `responses`).
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { buildApp } from "../../src/app.ts";
import { connect } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { startAppServer } from "../../tools/app-server.ts";
import { exchange, request as rawRequest } from "../helpers/raw.ts";
import { newInstall, startServer, TEST_SECRET, type TestServer, tokenFor } from "../helpers/server.ts";

type Req = { method: string; path: string; token?: string | null; body?: unknown; headers?: Record<string, string> };
type Answer = { status: number; body: unknown };
type Declared = Map<string, Map<number, TSchema>>; // "METHOD pattern" → status → schema

const MAX_BODY = 65_536;
let main: TestServer;
let limited: TestServer;
let away: TestServer;
let declared: Declared;

async function send(server: TestServer, req: Req, token: string | null): Promise<Answer> {
  const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }) };
  let body: string | undefined;
  if (req.body !== undefined) {
    headers["content-type"] = "application/json";
    body = typeof req.body === "string" ? req.body : JSON.stringify(req.body);
  }
  const res = await fetch(server.url + req.path, { method: req.method, headers: { ...headers, ...req.headers }, body });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

async function sendRaw(server: TestServer, req: Req, token: string, host: string): Promise<Answer> {
  const port = Number(new URL(server.url).port);
  const headers = { host, authorization: `Bearer ${token}`, connection: "close" };
  const answer = await exchange(port, rawRequest(req.method, req.path, headers));
  return { status: answer.status, body: answer.body === "" ? undefined : JSON.parse(answer.body) };
}

beforeAll(async () => {
  main = await startServer({ STORAGE_MAX_BODY_BYTES: String(MAX_BODY) });
  limited = await startServer({ STORAGE_RATE_LIMIT: "1" });
  // the same app on a database that is not there
  away = await startAppServer("postgres://postgres@127.0.0.1:1/none", {
    ...process.env,
    STORAGE_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: "silent",
  });
  // the declarations, read from an app built like the servers' (never listening)
  const db = connect("postgres://postgres@127.0.0.1:1/none", { poolMax: 1, prepare: true });
  const app = buildApp({ config: main.config, db, log: createLogger("silent"), jwtSecret: TEST_SECRET });
  declared = new Map();
  for (const route of app.routes) {
    if (!route.path.startsWith("/v1") && !route.path.startsWith("/admin")) continue;
    if (NDJSON_ROUTES.has(`${route.method} ${route.path}`)) continue;
    // biome-ignore lint/suspicious/noExplicitAny: Elysia's hooks as the OpenAPI plugin reads them
    const hooks = route.hooks as any;
    const byStatus = new Map<number, TSchema>();
    for (const [status, schema] of Object.entries(hooks.response ?? {}))
      byStatus.set(Number(status), schema as TSchema);
    for (const [status, answer] of Object.entries(hooks.detail?.responses ?? {})) {
      // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI response object
      const json = (answer as any).content?.["application/json"]?.schema;
      // an NDJSON stream (the admin export) is documented per line, not as one JSON body
      if (json !== undefined) byStatus.set(Number(status), json);
    }
    declared.set(`${route.method} ${route.path}`, byStatus);
  }
  await db.close(0);
});

afterAll(async () => {
  await Promise.all([main?.close(), limited?.close(), away?.close()]);
});

type RouteCase = {
  route: string; // "METHOD pattern", as declared
  scope: string; // the scope the route needs
  wrongScope: string; // one that lacks it
  admin?: boolean;
  /** the requests of its own statuses (2xx, and what only this route gives), in order */
  own: (ctx: Ctx) => Promise<Array<[number, Req]>>;
  /** a request admission lets through; its answer on a working database is not looked at */
  valid: (ctx: Ctx) => Req;
};

type Ctx = { install: ReturnType<typeof newInstall>; token: string; setup: (req: Req) => Promise<void> };

const rec = (ns: string, key: string) => `/v1/namespaces/${ns}/records/${key}`;
const admin = (ctx: Ctx, tail = "") =>
  `/admin/v1/tenants/${ctx.install.tenantId}/installs/${ctx.install.installId}${tail}`;
const stringsOnly = { jsonSchema: { type: "string" } };

// The admin export and import stream NDJSON, one line schema per line rather than one JSON
// body: their answers are checked line by line in export-import*.test.ts, not here. The
// watch routes stream Server-Sent Events: checked in watch.test.ts.
const NDJSON_ROUTES = new Set([
  "GET /admin/v1/tenants/:tid/installs/:iid/export",
  "POST /admin/v1/tenants/:tid/installs/:iid/import",
  "GET /v1/watch",
  "GET /v1/namespaces/:ns/watch",
]);

/** The own statuses of a change feed route: pages, a bad query, a cursor from before a purge. */
const changesCases =
  (path: string) =>
  async (ctx: Ctx): Promise<Array<[number, Req]>> => {
    await ctx.setup({ method: "PUT", path: rec("chg", "a"), body: { value: 1 } });
    const first = await send(main, { method: "GET", path }, ctx.token);
    const cursor = (first.body as { cursor: string }).cursor;
    await send(main, { method: "DELETE", path: admin(ctx) }, await tokenFor({}, "storage:admin"));
    return [
      [200, { method: "GET", path: `${path}?values=true&limit=5` }],
      [200, { method: "GET", path: `${path}?since=now` }],
      [400, { method: "GET", path: `${path}?limit=0` }],
      [400, { method: "GET", path: `${path}?since=not-a-cursor` }],
      [410, { method: "GET", path: `${path}?since=${cursor}` }],
    ];
  };

const ROUTES: RouteCase[] = [
  {
    route: "GET /v1/changes",
    scope: "storage:read",
    wrongScope: "storage:write",
    valid: () => ({ method: "GET", path: "/v1/changes" }),
    own: changesCases("/v1/changes"),
  },
  {
    route: "GET /v1/namespaces/:ns/changes",
    scope: "storage:read",
    wrongScope: "storage:write",
    valid: () => ({ method: "GET", path: "/v1/namespaces/chg/changes" }),
    own: changesCases("/v1/namespaces/chg/changes"),
  },
  {
    route: "GET /v1/namespaces/:ns/records/:key",
    scope: "storage:read",
    wrongScope: "storage:write",
    valid: () => ({ method: "GET", path: rec("n", "k") }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: rec("get", "k"), body: { value: { a: [1, "x"] }, ttlSeconds: 60 } });
      return [
        [200, { method: "GET", path: rec("get", "k") }],
        [404, { method: "GET", path: rec("get", "absent") }],
        [400, { method: "GET", path: rec("get", "%ff") }],
      ];
    },
  },
  {
    route: "PUT /v1/namespaces/:ns/records/:key",
    scope: "storage:write",
    wrongScope: "storage:read",
    valid: () => ({ method: "PUT", path: rec("n", "k"), body: { value: 1 } }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: "/v1/namespaces/strict/schema", body: stringsOnly });
      return [
        [201, { method: "PUT", path: rec("put", "k"), body: { value: 1 } }],
        [200, { method: "PUT", path: rec("put", "k"), body: { value: 2 } }],
        [412, { method: "PUT", path: rec("put", "k"), body: { value: 3 }, headers: { "if-match": '"999999"' } }],
        [422, { method: "PUT", path: rec("strict", "k"), body: { value: 3 } }],
        [400, { method: "PUT", path: rec("put", "k"), body: { value: 1, extra: true } }],
        [201, { method: "PUT", path: rec("put", "idem"), body: { value: 1 }, headers: { "idempotency-key": "c-put" } }],
        [409, { method: "PUT", path: rec("put", "idem"), body: { value: 2 }, headers: { "idempotency-key": "c-put" } }],
      ];
    },
  },
  {
    route: "DELETE /v1/namespaces/:ns/records/:key",
    scope: "storage:write",
    wrongScope: "storage:read",
    valid: () => ({ method: "DELETE", path: rec("n", "k") }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: rec("del", "k"), body: { value: 1 } });
      await setup({ method: "PUT", path: rec("del", "kept"), body: { value: 1 } });
      return [
        [204, { method: "DELETE", path: rec("del", "k") }],
        [404, { method: "DELETE", path: rec("del", "k") }],
        [412, { method: "DELETE", path: rec("del", "kept"), headers: { "if-match": '"999999"' } }],
        [204, { method: "DELETE", path: rec("del", "kept"), headers: { "idempotency-key": "c-del" } }],
        [409, { method: "DELETE", path: rec("del", "other"), headers: { "idempotency-key": "c-del" } }],
      ];
    },
  },
  {
    route: "GET /v1/namespaces/:ns/records",
    scope: "storage:read",
    wrongScope: "storage:write",
    valid: () => ({ method: "GET", path: "/v1/namespaces/n/records" }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: rec("list", "a"), body: { value: "x" } });
      await setup({ method: "PUT", path: rec("list", "b"), body: { value: null } });
      return [
        [200, { method: "GET", path: "/v1/namespaces/list/records?limit=1" }],
        [200, { method: "GET", path: "/v1/namespaces/list/records?values=false" }],
        [400, { method: "GET", path: "/v1/namespaces/list/records?limit=0" }],
      ];
    },
  },
  {
    route: "POST /v1/namespaces/:ns/bulk-get",
    scope: "storage:read",
    wrongScope: "storage:write",
    valid: () => ({ method: "POST", path: "/v1/namespaces/n/bulk-get", body: { keys: ["a"] } }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: rec("bget", "a"), body: { value: [1] } });
      return [
        [200, { method: "POST", path: "/v1/namespaces/bget/bulk-get", body: { keys: ["a", "b"] } }],
        [400, { method: "POST", path: "/v1/namespaces/bget/bulk-get", body: { keys: ["a", ""] } }],
      ];
    },
  },
  {
    route: "POST /v1/namespaces/:ns/bulk-put",
    scope: "storage:write",
    wrongScope: "storage:read",
    valid: () => ({ method: "POST", path: "/v1/namespaces/n/bulk-put", body: { items: [{ key: "a", value: 1 }] } }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: "/v1/namespaces/bstrict/schema", body: stringsOnly });
      const put = (ns: string, items: unknown[]): Req => ({
        method: "POST",
        path: `/v1/namespaces/${ns}/bulk-put`,
        body: { items },
      });
      return [
        [
          200,
          put("bput", [
            { key: "a", value: 1 },
            { key: "b", value: "x", ttlSeconds: 60 },
          ]),
        ],
        [412, put("bput", [{ key: "a", value: 2, ifRevision: 999999 }])],
        [422, put("bstrict", [{ key: "a", value: 2 }])],
        [200, { ...put("bput", [{ key: "i", value: 1 }]), headers: { "idempotency-key": "c-bput" } }],
        [409, { ...put("bput", [{ key: "i", value: 2 }]), headers: { "idempotency-key": "c-bput" } }],
        [
          400,
          put("bput", [
            { key: "a", value: 1 },
            { key: "a", value: 2 },
          ]),
        ],
      ];
    },
  },
  {
    route: "POST /v1/namespaces/:ns/bulk-delete",
    scope: "storage:write",
    wrongScope: "storage:read",
    valid: () => ({ method: "POST", path: "/v1/namespaces/n/bulk-delete", body: { keys: ["a"] } }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: rec("bdel", "a"), body: { value: 1 } });
      const del = (body: unknown): Req => ({ method: "POST", path: "/v1/namespaces/bdel/bulk-delete", body });
      return [
        [412, del({ items: [{ key: "a", ifRevision: 999999 }] })],
        [200, del({ keys: ["a", "b"] })],
        [400, del({ keys: [] })],
        [200, { ...del({ keys: ["x"] }), headers: { "idempotency-key": "c-bdel" } }],
        [409, { ...del({ keys: ["y"] }), headers: { "idempotency-key": "c-bdel" } }],
      ];
    },
  },
  {
    route: "GET /v1/namespaces",
    scope: "storage:read",
    wrongScope: "storage:write",
    valid: () => ({ method: "GET", path: "/v1/namespaces" }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: rec("listed", "a"), body: { value: 1 } });
      return [[200, { method: "GET", path: "/v1/namespaces" }]];
    },
  },
  {
    route: "DELETE /v1/namespaces/:ns",
    scope: "storage:write",
    wrongScope: "storage:read",
    valid: () => ({ method: "DELETE", path: "/v1/namespaces/n" }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: rec("gone", "a"), body: { value: 1 } });
      return [
        [200, { method: "DELETE", path: "/v1/namespaces/gone" }],
        [400, { method: "DELETE", path: "/v1/namespaces/-bad" }],
        [200, { method: "DELETE", path: "/v1/namespaces/gone", headers: { "idempotency-key": "c-nsdel" } }],
        [409, { method: "DELETE", path: "/v1/namespaces/other", headers: { "idempotency-key": "c-nsdel" } }],
      ];
    },
  },
  {
    route: "PATCH /v1/namespaces/:ns/records/:key",
    scope: "storage:write",
    wrongScope: "storage:read",
    valid: () => ({ method: "PATCH", path: rec("n", "k"), body: { a: 1 } }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: "/v1/namespaces/pstrict/schema", body: { jsonSchema: { type: "object" } } });
      await setup({ method: "PUT", path: rec("patch", "k"), body: { value: { a: 1 } } });
      await setup({ method: "PUT", path: rec("pstrict", "k"), body: { value: { a: 1 } } });
      return [
        [200, { method: "PATCH", path: rec("patch", "k"), body: { b: 2 } }],
        [404, { method: "PATCH", path: rec("patch", "absent"), body: { b: 2 } }],
        [412, { method: "PATCH", path: rec("patch", "k"), body: { b: 3 }, headers: { "if-match": '"999999"' } }],
        [422, { method: "PATCH", path: rec("pstrict", "k"), body: "1" }],
        [400, { method: "PATCH", path: rec("patch", "k"), body: "{" }],
        [200, { method: "PATCH", path: rec("patch", "k"), body: { c: 1 }, headers: { "idempotency-key": "c-patch" } }],
        [409, { method: "PATCH", path: rec("patch", "k"), body: { c: 2 }, headers: { "idempotency-key": "c-patch" } }],
      ];
    },
  },
  {
    route: "POST /v1/atomic",
    scope: "storage:write",
    wrongScope: "storage:read",
    valid: () => ({ method: "POST", path: "/v1/atomic", body: { ops: [{ op: "delete", namespace: "n", key: "k" }] } }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: "/v1/namespaces/astrict/schema", body: stringsOnly });
      await setup({ method: "PUT", path: rec("atomic", "s"), body: { value: "text" } });
      const atomic = (body: unknown): Req => ({ method: "POST", path: "/v1/atomic", body });
      return [
        [200, atomic({ ops: [{ op: "increment", namespace: "atomic", key: "n", by: 1 }] })],
        [
          412,
          atomic({
            checks: [{ namespace: "atomic", key: "s", revision: null }],
            ops: [{ op: "delete", namespace: "atomic", key: "x" }],
          }),
        ],
        [409, atomic({ ops: [{ op: "increment", namespace: "atomic", key: "s", by: 1 }] })],
        [422, atomic({ ops: [{ op: "set", namespace: "astrict", key: "k", value: 1 }] })],
        [400, atomic({ ops: [{ op: "frob", namespace: "atomic", key: "k" }] })],
      ];
    },
  },
  {
    route: "PUT /v1/namespaces/:ns/schema",
    scope: "storage:schema",
    wrongScope: "storage:read storage:write",
    valid: () => ({ method: "PUT", path: "/v1/namespaces/n/schema", body: stringsOnly }),
    own: async () => [
      [201, { method: "PUT", path: "/v1/namespaces/sch/schema", body: stringsOnly }],
      [200, { method: "PUT", path: "/v1/namespaces/sch/schema", body: { ...stringsOnly, defaultTtlSeconds: 60 } }],
      [400, { method: "PUT", path: "/v1/namespaces/sch/schema", body: { jsonSchema: { type: 12 } } }],
    ],
  },
  {
    route: "GET /v1/namespaces/:ns/schema",
    scope: "storage:schema",
    wrongScope: "storage:read storage:write",
    valid: () => ({ method: "GET", path: "/v1/namespaces/n/schema" }),
    own: async ({ setup }) => {
      await setup({
        method: "PUT",
        path: "/v1/namespaces/schget/schema",
        body: { ...stringsOnly, maxValueBytes: 100 },
      });
      return [
        [200, { method: "GET", path: "/v1/namespaces/schget/schema" }],
        [404, { method: "GET", path: "/v1/namespaces/none/schema" }],
        [400, { method: "GET", path: "/v1/namespaces/-bad/schema" }],
      ];
    },
  },
  {
    route: "DELETE /v1/namespaces/:ns/schema",
    scope: "storage:schema",
    wrongScope: "storage:read storage:write",
    valid: () => ({ method: "DELETE", path: "/v1/namespaces/n/schema" }),
    own: async ({ setup }) => {
      await setup({ method: "PUT", path: "/v1/namespaces/schdel/schema", body: stringsOnly });
      return [
        [204, { method: "DELETE", path: "/v1/namespaces/schdel/schema" }],
        [404, { method: "DELETE", path: "/v1/namespaces/schdel/schema" }],
      ];
    },
  },
  {
    route: "GET /v1/usage",
    scope: "storage:read",
    wrongScope: "storage:write",
    valid: () => ({ method: "GET", path: "/v1/usage" }),
    own: async () => [[200, { method: "GET", path: "/v1/usage" }]],
  },
  {
    route: "GET /admin/v1/tenants/:tid/installs/:iid/usage",
    scope: "storage:admin",
    wrongScope: "storage:read storage:write",
    admin: true,
    valid: (ctx) => ({ method: "GET", path: admin(ctx, "/usage") }),
    own: async (ctx) => [
      [200, { method: "GET", path: admin(ctx, "/usage") }],
      [400, { method: "GET", path: "/admin/v1/tenants/t/installs/a%20b/usage" }],
      [400, { method: "GET", path: "/admin/v1/tenants/t/installs/%ff/usage" }],
    ],
  },
  {
    route: "PUT /admin/v1/tenants/:tid/installs/:iid/limits",
    scope: "storage:admin",
    wrongScope: "storage:read storage:write",
    admin: true,
    valid: (ctx) => ({ method: "PUT", path: admin(ctx, "/limits"), body: { maxBytes: null } }),
    own: async (ctx) => [
      [200, { method: "PUT", path: admin(ctx, "/limits"), body: { maxBytes: 1_000_000, maxRecords: null } }],
      [400, { method: "PUT", path: admin(ctx, "/limits"), body: { maxBytes: -1 } }],
    ],
  },
  {
    route: "DELETE /admin/v1/tenants/:tid/installs/:iid",
    scope: "storage:admin",
    wrongScope: "storage:read storage:write",
    admin: true,
    valid: (ctx) => ({ method: "DELETE", path: admin(ctx) }),
    own: async (ctx) => [[204, { method: "DELETE", path: admin(ctx) }]],
  },
];

/** The route's path with its first parameter a `.` segment: the route matches, admission says 404. */
const dotted = (req: Req) => ({
  ...req,
  path: req.path.replace(/^(\/v1\/namespaces\/|\/admin\/v1\/tenants\/)[^/]+/, "$1%2e"),
});

describe("every route answers what it declares", () => {
  test("each /v1 and admin route is covered here", () => {
    expect([...declared.keys()].sort()).toEqual(ROUTES.map((r) => r.route).sort());
  });

  test("the OpenAPI document lists what the routes declare, the list route's query too", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the served OpenAPI document
    const doc: any = await (await fetch(`${main.url}/openapi.json`)).json();
    for (const [route, schemas] of declared) {
      const [method = "", pattern = ""] = route.split(" ");
      const operation = doc.paths[pattern.replace(/:([^/]+)/g, "{$1}")]?.[method.toLowerCase()];
      expect({ route, statuses: Object.keys(operation?.responses ?? {}).sort() }).toEqual({
        route,
        statuses: [...schemas.keys()].map(String).sort(),
      });
    }
    const list = doc.paths["/v1/namespaces/{ns}/records"].get;
    const query = list.parameters.filter((p: { in: string }) => p.in === "query").map((p: { name: string }) => p.name);
    expect(query.sort()).toEqual(["cursor", "limit", "prefix", "values"]);
  });

  test("a route takes its body in each media type the document lists for it", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the served OpenAPI document
    const doc: any = await (await fetch(`${main.url}/openapi.json`)).json();
    const ctx: Ctx = { install: newInstall("contract-types"), token: "", setup: async () => {} };
    const typesOf = (route: string): string[] => {
      const [method = "", pattern = ""] = route.split(" ");
      return Object.keys(doc.paths[pattern.replace(/:([^/]+)/g, "{$1}")][method.toLowerCase()].requestBody.content);
    };
    const sent: Array<[string, Req, string]> = [];
    for (const r of ROUTES) {
      const valid = r.valid(ctx);
      if (valid.body === undefined) continue;
      const token = await tokenFor(r.admin ? {} : ctx.install, r.scope);
      for (const type of typesOf(r.route)) sent.push([r.route, { ...valid, headers: { "content-type": type } }, token]);
    }
    // the import (its answers are checked in export-import.test.ts): an empty body is a 400
    const importRoute = "POST /admin/v1/tenants/:tid/installs/:iid/import";
    const adminToken = await tokenFor({}, "storage:admin");
    for (const type of typesOf(importRoute)) {
      const req = { method: "POST", path: admin(ctx, "/import"), body: "", headers: { "content-type": type } };
      sent.push([importRoute, req, adminToken]);
    }
    expect(sent.length).toBeGreaterThan(10);
    for (const [route, req, token] of sent) {
      const status = (await send(main, req, token)).status;
      const type = req.headers?.["content-type"];
      expect({ route, type, refused: status === 415 }).toEqual({ route, type, refused: false });
    }
  });

  for (const r of ROUTES) {
    test(r.route, async () => {
      const schemas = declared.get(r.route);
      if (schemas === undefined) throw new Error(`${r.route} is not declared`);
      const install = newInstall("contract");
      const token = await tokenFor(r.admin ? {} : install, r.scope);
      const writer = await tokenFor(install, "storage:read storage:write storage:schema");
      const ctx: Ctx = {
        install,
        token,
        setup: async (req) => {
          const answer = await send(main, req, writer);
          if (answer.status >= 300) throw new Error(`setup ${req.method} ${req.path}: ${answer.status}`);
        },
      };
      const valid = r.valid(ctx);
      const met: Array<[number, Answer, string]> = [];
      const meet = (expected: number, answer: Answer, what: string) => {
        expect({ what, status: answer.status }).toEqual({ what, status: expected });
        met.push([expected, answer, what]);
      };

      for (const [status, req] of await r.own(ctx)) {
        meet(status, await send(main, req, token), `${req.method} ${req.path}`);
      }
      meet(401, await send(main, valid, null), "no token");
      meet(403, await send(main, valid, await tokenFor(install, r.wrongScope)), "wrong scope");
      meet(400, await sendRaw(main, valid, token, "a b"), "a Host that is not a host");
      meet(503, await send(away, valid, token), "no database");
      if (schemas.has(404) && valid.path.split("/").length > 3) {
        meet(404, await sendRaw(main, dotted(valid), token, "localhost"), "a dot segment");
      }
      if (schemas.has(415)) {
        meet(
          415,
          await send(main, { ...valid, headers: { "content-type": "text/plain" } }, token),
          "a body that is not JSON",
        );
      }
      if (schemas.has(413)) {
        meet(413, await send(main, { ...valid, body: `{"pad":"${"x".repeat(MAX_BODY)}"}` }, token), "an oversize body");
      }
      if (schemas.has(429)) {
        // a burst of twice the rate (1/s), then a refusal
        const own = await tokenFor(newInstall("contract-rate"), r.scope);
        let answer = await send(limited, valid, own);
        for (let i = 0; i < 3 && answer.status !== 429; i++) answer = await send(limited, valid, own);
        meet(429, answer, "over the rate");
      }

      // every documented status was met, and every answer matches its declared schema
      expect([...new Set(met.map(([status]) => status))].sort()).toEqual([...schemas.keys()].sort());
      for (const [status, answer, what] of met) {
        const schema = schemas.get(status);
        if (schema === undefined) throw new Error(`${r.route}: ${status} (${what}) is not declared`);
        const errors = [...Value.Errors(schema, answer.body)].map((e) => `${e.path}: ${e.message}`);
        expect({ what, status, errors }).toEqual({ what, status, errors: [] });
      }
    });
  }
});

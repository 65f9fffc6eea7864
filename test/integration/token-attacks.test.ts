// Hostile tokens over real HTTP: forged, confused, stale, misdirected or malformed tokens
// are a 401; valid tokens reaching past their scope are a 403. Each attack is its own test
// and is tried against a route that would otherwise succeed (the victim's record exists),
// and afterwards the victim's data is checked unchanged.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import {
  AUDIENCE,
  client,
  newInstall,
  startServer,
  TEST_SECRET,
  type TestServer,
  tokenFor,
} from "../helpers/server.ts";

let server: TestServer;
let withIssuer: TestServer;
const victim = newInstall("victim");
beforeAll(async () => {
  server = await startServer();
  withIssuer = await startServer({ STORAGE_JWT_ISSUER: "platform" });
  const c = client(server.url, await tokenFor(victim));
  expect((await c.put("ns", "k", { value: "original" })).status).toBe(201);
});
let tried = 0;
let letThrough = 0;
afterAll(async () => {
  console.log(`token attacks: ${tried} tried, ${letThrough} let through`);
  await server.close();
  await withIssuer.close();
});

const now = () => Math.floor(Date.now() / 1000);
const b64 = (o: unknown) => Buffer.from(typeof o === "string" ? o : JSON.stringify(o)).toString("base64url");
const claims = (extra: Record<string, unknown> = {}) => ({
  tenant_id: victim.tenantId,
  extension_id: victim.extensionId,
  install_id: victim.installId,
  scope: "storage:read storage:write storage:schema storage:admin",
  aud: AUDIENCE,
  exp: now() + 300,
  ...extra,
});
/** header.payload signed with HMAC-SHA-256 under `secret`, whatever the header claims. */
const hmac = (header: Record<string, unknown>, payload: unknown, secret: string | Buffer = TEST_SECRET) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
};
const hs256 = (payload: unknown) => hmac({ alg: "HS256", typ: "JWT" }, payload);

const rsa = await generateKeyPair("RS256");
const ec = await generateKeyPair("ES256");
const rsaPublicPem = Buffer.from(await crypto.subtle.exportKey("spki", rsa.publicKey as CryptoKey)).toString("base64");

const unauthenticated: Array<[string, () => Promise<string> | string]> = [
  ["alg none, no signature", () => `${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.`],
  ["alg None (case variant)", () => `${b64({ alg: "None" })}.${b64(claims())}.`],
  [
    "alg none carrying a valid HS256 signature",
    () => {
      const valid = hs256(claims()).split(".")[2];
      return `${b64({ alg: "none" })}.${b64(claims())}.${valid}`;
    },
  ],
  ["RS256 header, HMAC signature with the shared secret (confusion)", () => hmac({ alg: "RS256" }, claims())],
  ["RS256 header, HMAC keyed with an RSA public key (confusion)", () => hmac({ alg: "RS256" }, claims(), rsaPublicPem)],
  [
    "RS256 signed with an attacker's RSA key",
    () => new SignJWT(claims()).setProtectedHeader({ alg: "RS256" }).sign(rsa.privateKey),
  ],
  [
    "ES256 signed with an attacker's EC key",
    () => new SignJWT(claims()).setProtectedHeader({ alg: "ES256" }).sign(ec.privateKey),
  ],
  [
    "attacker's key embedded as a jwk header",
    async () => {
      const jwk = await exportJWK(ec.publicKey);
      return new SignJWT(claims()).setProtectedHeader({ alg: "ES256", jwk }).sign(ec.privateKey);
    },
  ],
  [
    "attacker's oct key embedded as a jwk header",
    () =>
      hmac(
        { alg: "HS256", jwk: { kty: "oct", k: b64("attacker-secret-0123456789-0123456789") } },
        claims(),
        "attacker-secret-0123456789-0123456789",
      ),
  ],
  [
    "jku pointing at an attacker's key set",
    () =>
      hmac(
        { alg: "HS256", jku: "http://127.0.0.1:1/jwks.json", kid: "x" },
        claims(),
        "attacker-secret-0123456789-0123456789",
      ),
  ],
  ["kid path traversal with an empty key", () => hmac({ alg: "HS256", kid: "../../../../dev/null" }, claims(), "")],
  [
    "HS512 with the right secret",
    () => new SignJWT(claims()).setProtectedHeader({ alg: "HS512" }).sign(new TextEncoder().encode(TEST_SECRET)),
  ],
  ["unknown critical header", () => hmac({ alg: "HS256", crit: ["exp-policy"], "exp-policy": 1 }, claims())],
  ["another secret", () => hmac({ alg: "HS256" }, claims(), "another-secret-0123456789-0123456789")],
  ["the secret with a byte more", () => hmac({ alg: "HS256" }, claims(), `${TEST_SECRET}x`)],
  ["expired beyond the skew", () => hs256(claims({ exp: now() - 60 }))],
  ["not yet valid", () => hs256(claims({ nbf: now() + 120 }))],
  ["no exp", () => hs256({ ...claims(), exp: undefined })],
  ["exp as a string", () => hs256(claims({ exp: String(now() + 300) }))],
  ["wrong audience", () => hs256(claims({ aud: "another-service" }))],
  ["audience list without ours", () => hs256(claims({ aud: ["a", "b"] }))],
  ["no audience", () => hs256({ ...claims(), aud: undefined })],
  [
    "tampered payload: another install, signature kept",
    () => {
      const [h, , s] = hs256(claims({ scope: "storage:read" })).split(".");
      return `${h}.${b64(claims({ install_id: "someone-else" }))}.${s}`;
    },
  ],
  [
    "tampered payload: scope raised, signature kept",
    () => {
      const [h, , s] = hs256(claims({ scope: "storage:read" })).split(".");
      return `${h}.${b64(claims())}.${s}`;
    },
  ],
  [
    "tampered signature",
    () => {
      const token = hs256(claims());
      return `${token.slice(0, -4)}${token.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
    },
  ],
  ["signature stripped", () => `${hs256(claims()).split(".").slice(0, 2).join(".")}.`],
  ["no scope claim", () => hs256({ ...claims(), scope: undefined })],
  ["scope as an array", () => hs256(claims({ scope: ["storage:read"] }))],
  ["unknown scope", () => hs256(claims({ scope: "storage:read storage:root" }))],
  ["install id with a slash", () => hs256(claims({ install_id: "a/b" }))],
  ["install id with a space", () => hs256(claims({ install_id: "a b" }))],
  ["install id empty", () => hs256(claims({ install_id: "" }))],
  ["install id of 129 characters", () => hs256(claims({ install_id: "i".repeat(129) }))],
  ["install id a number", () => hs256(claims({ install_id: 42 }))],
  ["tenant id with a NUL", () => hs256(claims({ tenant_id: "t\u0000" }))],
  ["tenant id non-ASCII", () => hs256(claims({ tenant_id: "tenänt" }))],
  ["extension id an object", () => hs256(claims({ extension_id: { id: "e" } }))],
  ["install claims partial", () => hs256({ ...claims(), extension_id: undefined })],
  [
    "no install claims without the admin scope",
    () => hs256({ scope: "storage:read storage:write", aud: AUDIENCE, exp: now() + 300 }),
  ],
  ["header not JSON", () => `${b64("not json")}.${b64(claims())}.${"A".repeat(43)}`],
  ["four segments", () => `${hs256(claims())}.extra`],
  ["payload an array", () => hmac({ alg: "HS256" }, [claims()])],
];

describe("forged and malformed tokens: 401", () => {
  test.each(unauthenticated)("%s", async (_name, make) => {
    tried++;
    const token = await make();
    const res = await fetch(`${server.url}/v1/namespaces/ns/records/k`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await res.json();
    if (res.status !== 401) letThrough++;
    expect([res.status, body.error?.code]).toEqual([401, "UNAUTHENTICATED"]);
  });

  test("issuer: missing or wrong is a 401 when STORAGE_JWT_ISSUER is set", async () => {
    for (const iss of [undefined, "someone-else", ["platform"]]) {
      tried++;
      const res = await fetch(`${withIssuer.url}/v1/usage`, {
        headers: { authorization: `Bearer ${hs256(claims({ iss }))}` },
      });
      if (res.status !== 401) letThrough++;
      expect([String(iss), res.status]).toEqual([String(iss), 401]);
    }
    const ok = await fetch(`${withIssuer.url}/v1/usage`, {
      headers: { authorization: `Bearer ${hs256(claims({ iss: "platform" }))}` },
    });
    expect(ok.status).toBe(200);
  });
});

// [token scope, method, path, body or null]: each a 403 FORBIDDEN
const v1 = "/v1/namespaces/ns";
const admin = `/admin/v1/tenants/${victim.tenantId}/installs/${victim.installId}`;
const escalations: Array<[string, string, string, unknown]> = [
  ["storage:read", "PUT", `${v1}/records/k`, { value: "overwritten" }],
  ["storage:read", "DELETE", `${v1}/records/k`, null],
  ["storage:read", "POST", `${v1}/bulk-put`, { items: [{ key: "k", value: "overwritten" }] }],
  ["storage:read", "POST", `${v1}/bulk-delete`, { keys: ["k"] }],
  ["storage:read", "DELETE", v1, null],
  ["storage:write", "GET", `${v1}/records/k`, null],
  ["storage:write", "GET", `${v1}/records`, null],
  ["storage:write", "POST", `${v1}/bulk-get`, { keys: ["k"] }],
  ["storage:write", "GET", "/v1/namespaces", null],
  ["storage:write", "GET", "/v1/usage", null],
  ["storage:read storage:write", "PUT", `${v1}/schema`, { jsonSchema: false }],
  ["storage:read storage:write", "GET", `${v1}/schema`, null],
  ["storage:read storage:write", "DELETE", `${v1}/schema`, null],
  ["storage:read storage:write storage:schema", "GET", `${admin}/usage`, null],
  ["storage:read storage:write storage:schema", "PUT", `${admin}/limits`, { maxBytes: 0 }],
  ["storage:read storage:write storage:schema", "DELETE", admin, null],
  ["admin-only", "GET", `${v1}/records/k`, null],
  ["admin-only", "PUT", `${v1}/records/k`, { value: "overwritten" }],
  ["admin-only", "GET", "/v1/usage", null],
];

describe("scope escalation: 403", () => {
  // a rest parameter: bun:test reads a callback's extra declared parameter as "done"
  test.each(escalations)("%s: %s %s", async (...row) => {
    const [scope, method, path, body] = row;
    tried++;
    const token = scope === "admin-only" ? await tokenFor({}, "storage:admin") : await tokenFor(victim, scope);
    const res = await fetch(server.url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === null ? {} : { "content-type": "application/json" }),
      },
      body: body === null ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status !== 403) letThrough++;
    expect([res.status, json.error?.code]).toEqual([403, "FORBIDDEN"]);
  });

  test("nothing the attacks tried changed the victim's data or limits", async () => {
    const c = client(server.url, await tokenFor(victim));
    const got = await c.get("ns", "k");
    expect([got.status, got.body.value]).toEqual([200, "original"]);
    const usage = await c.call("GET", "/v1/usage");
    expect(usage.body.limits.maxBytes).toBe(server.config.limits.quotaBytes);
  });
});

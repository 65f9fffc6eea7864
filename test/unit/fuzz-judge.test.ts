// The fuzzer's judge must actually reject what breaks the contract, or the fuzz test could
// pass whatever the service answered.
import { describe, expect, test } from "bun:test";
import { judge } from "../fuzz/fuzz.ts";
import type { RawRequest } from "../fuzz/raw-http.ts";

const req: RawRequest = { method: "PUT", path: "/v1/namespaces/ns/records/k", headers: [] };
const res = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: new Map(Object.entries({ "content-type": "application/json", "x-request-id": "r1", ...headers })),
  body: typeof body === "string" ? body : JSON.stringify(body),
});
const error = (code: string, extra: Record<string, unknown> = {}) => ({ error: { code, message: "m", ...extra } });

describe("fuzz judge", () => {
  test("accepts 2xx and contract-shaped 4xx", () => {
    expect(judge(req, res(200, { ok: 1 }))).toBeUndefined();
    expect(judge(req, res(400, error("INVALID_KEY", { details: { index: 1 } })))).toBeUndefined();
    expect(judge(req, res(429, error("RATE_LIMITED")))).toBeUndefined();
  });

  test("rejects every 5xx, from the app or not", () => {
    expect(judge(req, res(500, error("INTERNAL")))).toContain("500");
    expect(judge(req, res(503, error("UNAVAILABLE")))).toContain("503");
    expect(judge(req, res(502, "", { "x-request-id": "" }))).toContain("502");
  });

  test("rejects app errors not in the contract's shape", () => {
    expect(judge(req, res(400, "not json"))).toBeDefined();
    expect(judge(req, res(400, { message: "m" }))).toBeDefined();
    expect(judge(req, res(400, { ...error("INVALID_REQUEST"), extra: 1 }))).toBeDefined();
    expect(judge(req, res(400, error("INVALID_REQUEST", { stack: "x" })))).toBeDefined();
    expect(judge(req, res(400, error("INVALID_REQUEST", { details: [1] })))).toBeDefined();
    expect(judge(req, res(404, error("INVALID_REQUEST")))).toContain("status 404");
    expect(judge(req, res(400, error("NO_SUCH_CODE")))).toBeDefined();
    expect(judge(req, res(400, error("INVALID_REQUEST"), { "content-type": "text/plain" }))).toBeDefined();
    expect(judge(req, res(400, error("INVALID_REQUEST", { message: "at f (src/x.ts:1:2)" })))).toBeDefined();
  });

  test("the HTTP layer's bare answers pass only for requests it may refuse", () => {
    const bare = { status: 505, headers: new Map<string, string>(), body: "" };
    expect(judge({ ...req, malformed: true }, bare)).toBeUndefined();
    expect(judge(req, bare)).toContain("505");
    expect(judge(req, { status: 431, headers: new Map<string, string>(), body: "" })).toBeUndefined();
  });
});

// The Idempotency-Key at the edge (src/http/idempotency.ts), without a database: the header's
// alphabet and length, and what makes two requests "the same request".
import { describe, expect, test } from "bun:test";
import { readJson } from "../../src/http/body.ts";
import { idempotencyKeyOf, requestHash } from "../../src/http/idempotency.ts";

const req = (method: string, url: string, body?: string, key?: string) =>
  new Request(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(key === undefined ? {} : { "idempotency-key": key }),
    },
    body,
  });

describe("Idempotency-Key", () => {
  test("1–128 characters of [A-Za-z0-9._:-], else a 400", () => {
    expect(idempotencyKeyOf(req("PUT", "http://h/x"))).toBeUndefined();
    for (const good of ["a", "A-z_0.9:x", "k".repeat(128)])
      expect(idempotencyKeyOf(req("PUT", "http://h/x", undefined, good))).toBe(good);
    for (const bad of ["", "k".repeat(129), "a b", "a/b", "é"]) {
      expect(() => idempotencyKeyOf(req("PUT", "http://h/x", undefined, bad))).toThrow(
        expect.objectContaining({ status: 400, code: "INVALID_REQUEST" }),
      );
    }
  });

  test("the same request is the same method, raw path and body bytes", async () => {
    const hashOf = async (method: string, url: string, body?: string) => {
      const r = req(method, url, body);
      if (body !== undefined) await readJson(r, 1024);
      return requestHash(r);
    };
    const base = await hashOf("PUT", "http://h/v1/namespaces/n/records/a%2Fb", '{"value":1}');
    expect(await hashOf("PUT", "http://h/v1/namespaces/n/records/a%2Fb", '{"value":1}')).toBe(base);
    expect(await hashOf("PUT", "http://other:1/v1/namespaces/n/records/a%2Fb?x=1", '{"value":1}')).toBe(base);
    expect(await hashOf("POST", "http://h/v1/namespaces/n/records/a%2Fb", '{"value":1}')).not.toBe(base);
    expect(await hashOf("PUT", "http://h/v1/namespaces/n/records/a%2fb", '{"value":1}')).not.toBe(base);
    expect(await hashOf("PUT", "http://h/v1/namespaces/n/records/a%2Fb", '{"value": 1}')).not.toBe(base);
    expect(await hashOf("DELETE", "http://h/v1/namespaces/n")).toMatch(/^[0-9a-f]{64}$/);
  });
});

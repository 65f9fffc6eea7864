// The path check without a server: the URL shapes the runtimes hand the app (absolute, the
// raw target alone, Deno's Host-prefixed one) and the segments that name no route.
import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/errors.ts";
import { admitPath, checkHost, rawParam } from "../../src/http/target.ts";

const ROUTE = "/v1/namespaces/:ns/records/:key";
const socket = { requestIP: () => ({ address: "127.0.0.1" }) };

/** What a runtime could hand over: any url string, headers, and Bun's router params or none. */
const fake = (url: string, params?: Record<string, string>, host?: string) =>
  ({ url, headers: new Headers(host === undefined ? {} : { host }), params }) as unknown as Request;

const codeOf = (run: () => unknown) => {
  try {
    run();
    return "ok";
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
};

describe("admitPath", () => {
  test("reads the params from every URL shape, still percent-encoded", () => {
    for (const url of [
      "http://127.0.0.1:3000/v1/namespaces/ns/records/a%2Fb?x=1",
      "/v1/namespaces/ns/records/a%2Fb?x=1", // Bun, no usable Host: the raw target alone
      "http://localhost:3000/v1/namespaces/ns/records/a%2Fb", // Deno, no Host
      "http://elsewhere.example/v1/namespaces/ns/records/a%2Fb", // Deno, absolute-form target
    ]) {
      const request = fake(url);
      admitPath({ request, route: ROUTE, server: null });
      expect([rawParam(request, "ns"), rawParam(request, "key")]).toEqual(["ns", "a%2Fb"]);
    }
  });

  test("an empty, dot or backslash segment, or a different shape, names no route", () => {
    for (const path of [
      "/v1/namespaces/ns/records/k/",
      "/v1/namespaces//records/k",
      "//v1/namespaces/ns/records/k",
      "/v1/namespaces/%2e/records/k",
      "/v1/namespaces/ns/records/..",
      "/v1/namespaces/ns/records/.%2E",
      "/v1/namespaces/ns/records/a\\b",
      "/v1/namespaces/ns/records",
      "/v1/namespaces/ns/record/k",
      "/v1/namespaces/ns/records/k/x",
    ]) {
      expect(`${path} ${codeOf(() => admitPath({ request: fake(path), route: ROUTE, server: null }))}`).toBe(
        `${path} NOT_FOUND`,
      );
    }
  });

  test("on Bun: params that differ from the URL's, or none on a socket, name no route", () => {
    // `x\..\k` was matched with key `x\..\k`; the URL Bun hands over reads `k`
    const normalised = fake("http://a/v1/namespaces/ns/records/k", { ns: "ns", key: "x\\..\\k" });
    expect(codeOf(() => admitPath({ request: normalised, route: ROUTE, server: socket }))).toBe("NOT_FOUND");
    // Bun's router did not match; Elysia's matched the normalised URL
    const unmatched = fake("http://a/v1/namespaces/ns/records/k");
    expect(codeOf(() => admitPath({ request: unmatched, route: ROUTE, server: socket }))).toBe("NOT_FOUND");
    // what Bun's router read agrees: admitted; a bad escape is left to the route's own 400
    const agreed = fake("http://a/v1/namespaces/ns/records/a%2Fb", { ns: "ns", key: "a/b" });
    expect(codeOf(() => admitPath({ request: agreed, route: ROUTE, server: socket }))).toBe("ok");
    const badEscape = fake("http://a/v1/namespaces/ns/records/a%ZZ", { ns: "ns", key: "a\ufffd" });
    expect(codeOf(() => admitPath({ request: badEscape, route: ROUTE, server: socket }))).toBe("ok");
    expect(rawParam(badEscape, "key")).toBe("a%ZZ");
  });
});

describe("checkHost", () => {
  test("a host name, an address, a port or nothing pass; anything else is a 400", () => {
    for (const host of ["example.com", "127.0.0.1:3000", "[::1]:80", "", "xn--bcher-kva.example"]) {
      expect(`${host} ${codeOf(() => checkHost(fake("/", undefined, host)))}`).toBe(`${host} ok`);
    }
    expect(codeOf(() => checkHost(fake("/")))).toBe("ok");
    for (const host of ["a/b", "a?b", "a#b", "x@y", "a b", "a\\b"]) {
      expect(`${host} ${codeOf(() => checkHost(fake("/", undefined, host)))}`).toBe(`${host} INVALID_REQUEST`);
    }
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const as = async (install = newInstall(), scope?: string) => client(server.url, await tokenFor(install, scope));

describe("single records", () => {
  test("put creates (201), get reads it back with an ETag, put again replaces (200)", async () => {
    const c = await as();
    const created = await c.put("settings", "theme", { value: { mode: "dark" } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      key: "theme",
      revision: expect.any(Number),
      expiresAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(created.headers.get("etag")).toBe(`"${created.body.revision}"`);
    expect(created.headers.get("x-request-id")).toBeTruthy();

    const read = await c.get("settings", "theme");
    expect(read.status).toBe(200);
    expect(read.body.value).toEqual({ mode: "dark" });
    expect(read.headers.get("etag")).toBe(`"${created.body.revision}"`);

    const replaced = await c.put("settings", "theme", { value: ["light", 1, null, true] });
    expect(replaced.status).toBe(200);
    expect(replaced.body.revision).toBeGreaterThan(created.body.revision);
    expect(replaced.body.createdAt).toBe(created.body.createdAt);
    expect((await c.get("settings", "theme")).body.value).toEqual(["light", 1, null, true]);
  });
});

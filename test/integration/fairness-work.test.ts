// Spec section 18 (noisy neighbours): an install's work budget. Request and response bytes
// are charged to the install that sent them; once in debt its next requests are 429
// (`reason: "work_budget"`, Retry-After) while other installs are served as before.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
// a burst of twice the largest body (40,000 bytes), refilled at 1,000 bytes a second
beforeAll(async () => {
  server = await startServer({ STORAGE_WORK_LIMIT_BYTES: "1000", STORAGE_MAX_BODY_BYTES: "20000" });
});
afterAll(() => server.close());

const value = "v".repeat(15_000); // a PUT body of 15,012 bytes

const spent = (res: { status: number; headers: Headers; body: { error?: { details?: unknown } } }) => ({
  status: res.status,
  reason: (res.body?.error?.details as { reason?: string } | undefined)?.reason,
  retryAfter: Number(res.headers.get("retry-after")),
});

describe("fairness: the work budget", () => {
  test("request bytes: the install in debt is refused, other installs are not", async () => {
    const noisy = client(server.url, await tokenFor(newInstall("work")));
    const quiet = client(server.url, await tokenFor(newInstall("work")));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await noisy.put("ns", `k${i}`, { value })).status);
    // 15 KB × 3 = 45 KB: the third PUT goes into debt, the fourth is refused
    expect(statuses).toEqual([201, 201, 201, 429]);
    const refused = await noisy.get("ns", "k0");
    expect(spent(refused).status).toBe(429);
    expect(spent(refused).reason).toBe("work_budget");
    expect(spent(refused).retryAfter).toBeGreaterThanOrEqual(1);
    expect(spent(refused).retryAfter).toBeLessThanOrEqual(6);
    expect((await quiet.put("ns", "k", { value })).status).toBe(201);
    expect((await quiet.get("ns", "k")).status).toBe(200);
  });

  test("response bytes count too: reads of large values use the budget up", async () => {
    const install = newInstall("work");
    const reader = client(server.url, await tokenFor(install));
    expect((await reader.put("ns", "k", { value })).status).toBe(201);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await reader.get("ns", "k")).status);
    // 15 KB written, then 15 KB a read: the second read goes into debt
    expect(statuses).toEqual([200, 200, 429, 429]);
    // a list page of the value is charged the same way
    const listed = await reader.list("ns");
    expect(spent(listed).status).toBe(429);
  });

  test("a refused request is not charged for a body it never read, nor does it change anything", async () => {
    const install = newInstall("work");
    const c = client(server.url, await tokenFor(install));
    for (let i = 0; i < 3; i++) expect((await c.put("ns", `k${i}`, { value })).status).toBe(201);
    expect((await c.put("ns", "late", { value: 1 })).status).toBe(429);
    // 5 KB of debt pays back in about 5 s: past that the install is served again
    const retryAfter = spent(await c.put("ns", "late", { value: 1 })).retryAfter;
    await Bun.sleep(retryAfter * 1000 + 100);
    const after = await c.get("ns", "late");
    expect(after.status).toBe(404);
  }, 15_000);
});

// Every timestamp the API accepts is a real RFC 3339 date-time (spec section 12): an
// impossible one is a 400 naming the field (and the item), never rolled over.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { storedRows } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const as = async (install = newInstall()) => client(server.url, await tokenFor(install));

// Dates in the months that lie wholly between now and a year ahead (the current month's next
// occurrence does not): accepted, or rolled over into an accepted date before the fix.
const DAY = 86_400_000;
function yearOf(month: number): number | undefined {
  const now = Date.now();
  const thisYear = new Date(now).getUTCFullYear();
  return [thisYear, thisYear + 1].find(
    (y) => Date.UTC(y, month - 1, 1) > now + 2 * DAY && Date.UTC(y, month, 2) < now + 363 * DAY,
  );
}
const dates = (month: number, ...rests: string[]) => {
  const y = yearOf(month);
  const mm = String(month).padStart(2, "0");
  return y === undefined ? [] : rests.map((rest) => `${y}-${mm}-${rest}`);
};
const usableMonth = [1, 2, 3].find((m) => yearOf(m) !== undefined) ?? 5;
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const impossible = [
  ...dates(2, "30T00:00:00Z", ...(leap(yearOf(2) ?? 0) ? [] : ["29T00:00:00Z"])),
  ...dates(4, "31T00:00:00Z"),
  ...dates(6, "31T12:00:00Z"),
  ...dates(9, "31T12:00:00Z"),
  ...dates(11, "31T12:00:00Z"),
  ...dates(
    usableMonth,
    "32T00:00:00Z",
    "00T00:00:00Z",
    "10T24:00:00Z",
    "10T12:60:00Z",
    "10T12:00:60Z",
    "10T12:00:00+24:00",
    "10T12:00:00+01:60",
    "10 12:00:00Z",
  ),
  `${new Date().getUTCFullYear() + 1}-13-01T00:00:00Z`,
  `${new Date().getUTCFullYear() + 1}-00-01T00:00:00Z`,
];

describe("expiresAt", () => {
  test("an impossible date or time in PUT is a 400 naming expiresAt, and nothing is written", async () => {
    const install = newInstall();
    const c = await as(install);
    for (const expiresAt of impossible) {
      const res = await c.put("ns", "k", { value: 1, expiresAt });
      expect([expiresAt, res.status, res.body.error.code]).toEqual([expiresAt, 400, "INVALID_REQUEST"]);
      expect(res.body.error.message).toContain("expiresAt");
    }
    expect(await storedRows(install.installId)).toBe(0);
  });

  test("an impossible date in bulk-put names the field and every failing item", async () => {
    const install = newInstall();
    const c = await as(install);
    const [bad0, bad1] = impossible;
    const res = await c.bulk("ns", "bulk-put", {
      items: [
        { key: "a", value: 1, expiresAt: bad0 },
        { key: "b", value: 1, ttlSeconds: 60 },
        { key: "c", value: 1, expiresAt: bad1 },
      ],
    });
    expect([res.status, res.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    expect(res.body.error.details.failed).toEqual([
      { index: 0, key: "a", code: "INVALID_REQUEST", message: expect.stringContaining("expiresAt") },
      { index: 2, key: "c", code: "INVALID_REQUEST", message: expect.stringContaining("expiresAt") },
    ]);
    expect(await storedRows(install.installId)).toBe(0);
  });

  test("real dates are kept as given: last days of months, lower-case t and z, offsets", async () => {
    const c = await as();
    const y = yearOf(usableMonth) ?? 0;
    const mm = String(usableMonth).padStart(2, "0");
    const last = new Date(Date.UTC(y, usableMonth, 0)).getUTCDate();
    for (const [expiresAt, stored] of [
      [`${y}-${mm}-${last}T00:00:00Z`, `${y}-${mm}-${last}T00:00:00.000Z`],
      [`${y}-${mm}-10T23:59:59z`, `${y}-${mm}-10T23:59:59.000Z`],
      [`${y}-${mm}-11t01:30:00+02:00`, `${y}-${mm}-10T23:30:00.000Z`],
      [`${y}-${mm}-10T23:00:00-01:00`, `${y}-${mm}-11T00:00:00.000Z`],
    ]) {
      const res = await c.put("ns", "k", { value: 1, expiresAt });
      expect([expiresAt, res.status, res.body.expiresAt]).toEqual([expiresAt, expect.any(Number), stored]);
      expect(res.status).toBeLessThan(300);
    }
  });

  test("any number of fraction digits is accepted; the expiry keeps the millisecond", async () => {
    const c = await as();
    const [day] = dates(usableMonth, "05T10:00:00");
    const put = await c.put("ns", "k", { value: 1, expiresAt: `${day}.1234567891Z` });
    expect([put.status, put.body.expiresAt]).toEqual([201, `${day}.123Z`]);
    expect((await c.get("ns", "k")).body.expiresAt).toBe(`${day}.123Z`);
    const bulk = await c.bulk("ns", "bulk-put", {
      items: [{ key: "b", value: 1, expiresAt: `${day}.${"9".repeat(30)}Z` }],
    });
    expect([bulk.status, bulk.body.items[0].expiresAt]).toEqual([200, `${day}.999Z`]);
  });
});

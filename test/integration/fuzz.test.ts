// A bounded HTTP fuzz of every route against the service as its own process: every answer
// is a 4xx in the contract's shape or a 2xx (never a 5xx), the process stays up, and its
// memory stays bounded. `bun run fuzz -- --requests N` runs a long one.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { fuzz } from "../fuzz/fuzz.ts";
import { newInstall, tokenFor } from "../helpers/server.ts";
import { type Service, startService } from "../helpers/service.ts";

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 7);

let service: Service;
beforeAll(async () => {
  // a small body limit, so oversize bodies cost little
  service = await startService(process.env.DATABASE_URL as string, { STORAGE_MAX_BODY_BYTES: "65536" });
});
afterAll(() => service.kill());

test(`fuzz: ${REQUESTS} hostile requests, no 5xx, every error in the contract's shape`, async () => {
  const install = newInstall("fuzz");
  const tokens = {
    install: await tokenFor(install, "storage:read storage:write storage:schema"),
    reader: await tokenFor(install, "storage:read"),
    admin: await tokenFor({}, "storage:admin"),
  };
  // warm up before the first memory sample: the first requests compile routes and prepare statements
  await fuzz({ url: service.url, tokens, requests: 200, seed: SEED + 1 });
  const rssBefore = service.rssMiB();
  const report = await fuzz({ url: service.url, tokens, requests: REQUESTS, seed: SEED, maxSeconds: 60 });
  const rssAfter = service.rssMiB();
  console.log(
    `fuzz: ${report.requests} requests in ${report.seconds.toFixed(1)} s, statuses ${JSON.stringify(report.statuses)}, ` +
      `5xx from the app ${report.fiveHundreds}, from the HTTP layer ${report.httpLayer5xx}, answered by the HTTP layer ${report.protocolLevel}, ` +
      `malformed HTTP closed without an answer ${report.closedByHttpLayer}, ` +
      `RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`,
  );
  for (const f of report.findings) console.log(`  ${f.why}: ${f.request} → ${f.status} ${f.body}`);
  expect(report.findings).toEqual([]);
  expect(report.fiveHundreds).toBe(0);
  expect(report.requests).toBeGreaterThan(REQUESTS / 2);
  expect(service.alive()).toBe(true);
  expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
  const put = await fetch(`${service.url}/v1/namespaces/after/records/k`, {
    method: "PUT",
    headers: { authorization: `Bearer ${tokens.install}`, "content-type": "application/json" },
    body: '{"value":1}',
  });
  expect(put.status).toBe(201);
  expect(rssAfter - rssBefore).toBeLessThan(96);
}, 120_000);

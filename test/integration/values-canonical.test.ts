// Values come back in canonical form (contract section 12): the JSON text a read returns for
// a value is exactly JSON.stringify of the value as parsed when it was written, and its UTF-8
// length is what the size limit and the quota counted. Raw HTTP bodies are compared as text.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectUsageExact, sql } from "../helpers/db.ts";
import { type Install, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

/** 9,362 × 5e-324: 65,535 bytes as JSON.stringify writes it, about 3 MB as jsonb prints it. */
const TINY = `[${Array(9362).fill("5e-324").join(",")}]`;

/** Written with members out of order, numbers JavaScript writes in exponent form, -0,
 * escapes and characters outside ASCII, nested. */
const MIXED =
  '{"b":1,"a":{"z":[1e300,-0,5e-324,1e21,1e-7,0.1,-12.5e-3],"y":"é 😀 \\u2028 \\"q\\" \\\\ \\t","x":{}},"2":"two","1":[[[{"d":null,"c":true}]]]}';

async function raw(install: Install, method: string, path: string, body?: string, scope?: string) {
  const token = await tokenFor(install, scope);
  const res = await fetch(server.url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}

const recordPath = (ns: string, key: string) => `/v1/namespaces/${ns}/records/${encodeURIComponent(key)}`;

/** The value's text inside a record's JSON text, and that the whole body is canonical too. */
function valueTextOf(recordText: string): string {
  const body = JSON.parse(recordText);
  // the body as the server wrote it is JSON.stringify of itself: no jsonb spacing, no
  // jsonb digits, members in the order they were sent
  expect(recordText).toBe(JSON.stringify(body));
  return JSON.stringify(body.value);
}

async function putRaw(install: Install, ns: string, key: string, valueText: string) {
  const res = await raw(install, "PUT", recordPath(ns, key), `{"value":${valueText}}`);
  expect(res.status).toBe(201);
}

async function usedBytes(install: Install): Promise<number> {
  const res = await raw(install, "GET", "/v1/usage");
  return JSON.parse(res.text).bytesUsed;
}

describe("a value is read back as JSON.stringify wrote it when it was put", () => {
  test("9,362 × 5e-324: GET returns [5e-324,…], exactly the 65,535 bytes counted", async () => {
    const install = newInstall();
    const canonical = JSON.stringify(JSON.parse(TINY));
    expect(canonical).toBe(TINY);
    expect(bytes(TINY)).toBe(65_535);
    await putRaw(install, "ns", "tiny", TINY);
    expect(await usedBytes(install)).toBe(65_535 + bytes("tiny"));

    const got = await raw(install, "GET", recordPath("ns", "tiny"));
    expect(got.status).toBe(200);
    expect(valueTextOf(got.text)).toBe(TINY);
    expect(got.text).toContain(`"value":${TINY},"revision":`);
    // the whole response is the counted value plus the record's few fields
    expect(bytes(got.text)).toBeLessThan(65_535 + 200);
    await expectUsageExact(install.installId, expect);
  });

  test("members in the order written; 1e+300, -0 as 0, escapes, unicode and nesting as JavaScript writes them", async () => {
    const install = newInstall();
    await putRaw(install, "ns", "mixed", MIXED);
    const canonical = JSON.stringify(JSON.parse(MIXED));
    expect(
      canonical.startsWith(`{"1":[[[{"d":null,"c":true}]]],"2":"two","b":1,"a":{"z":[1e+300,0,5e-324,1e+21,1e-7`),
    ).toBe(true);
    const got = await raw(install, "GET", recordPath("ns", "mixed"));
    expect(valueTextOf(got.text)).toBe(canonical);
    expect(got.text).toContain(`"value":${canonical},"revision":`);
    expect(await usedBytes(install)).toBe(bytes(canonical) + bytes("mixed"));

    // a replacement is canonical too
    await raw(install, "PUT", recordPath("ns", "mixed"), `{"value":{"b":[1E+2,2.50],"a":-0.0}}`);
    expect((await raw(install, "GET", recordPath("ns", "mixed"))).text).toContain(`"value":{"b":[100,2.5],"a":0},`);
  });

  test("list with values and bulk-get return the same texts, and bulk-put counts them", async () => {
    const install = newInstall();
    const items = `[{"key":"a-tiny","value":${TINY}},{"key":"b-mixed","value":${MIXED}},{"key":"c-scalar","value":1e300}]`;
    const put = await raw(install, "POST", "/v1/namespaces/ns/bulk-put", `{"items":${items}}`);
    expect(put.status).toBe(200);
    const expected = (JSON.parse(items) as Array<{ key: string; value: unknown }>).map((i) => ({
      key: i.key,
      text: JSON.stringify(i.value),
    }));
    expect(expected.map((e) => e.text).at(-1)).toBe("1e+300");
    expect(await usedBytes(install)).toBe(expected.reduce((n, e) => n + bytes(e.text) + bytes(e.key), 0));

    const list = await raw(install, "GET", "/v1/namespaces/ns/records?values=true");
    expect(list.status).toBe(200);
    const page = JSON.parse(list.text);
    expect(list.text).toBe(JSON.stringify(page));
    expect(
      page.items.map((r: { key: string; value: unknown }) => ({ key: r.key, text: JSON.stringify(r.value) })),
    ).toEqual(expected);
    for (const e of expected) expect(list.text).toContain(`"value":${e.text},"revision":`);

    const got = await raw(
      install,
      "POST",
      "/v1/namespaces/ns/bulk-get",
      `{"keys":["c-scalar","b-mixed","a-tiny","none"]}`,
    );
    expect(got.status).toBe(200);
    expect(got.text).toBe(JSON.stringify(JSON.parse(got.text)));
    for (const e of expected) expect(got.text).toContain(`"value":${e.text},"revision":`);
    expect(JSON.parse(got.text).missing).toEqual(["none"]);
    await expectUsageExact(install.installId, expect);
  });
});

describe("a row written before value_json existed", () => {
  /** The previous release's write: the value as jsonb only, value_json left null. */
  async function writeAsBefore(install: Install, ns: string, key: string, valueText: string) {
    const size = bytes(JSON.stringify(JSON.parse(valueText))) + bytes(key);
    await sql`insert into ext_storage_usage (install_id, tenant_id, extension_id, bytes_used, record_count, last_revision)
              values (${install.installId}, ${install.tenantId}, ${install.extensionId}, ${size}, 1, 1)
              on conflict (install_id) do update set bytes_used = ext_storage_usage.bytes_used + ${size},
                record_count = ext_storage_usage.record_count + 1,
                last_revision = ext_storage_usage.last_revision + 1`;
    await sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes)
              values (${install.tenantId}, ${install.extensionId}, ${install.installId}, ${ns}, ${key},
                      ${valueText}::text::jsonb, 1, ${size})`;
    return size;
  }

  test("reads back canonical through GET, list and bulk-get: never jsonb's digits or spacing", async () => {
    const install = newInstall();
    await writeAsBefore(install, "old", "tiny", TINY);
    await writeAsBefore(install, "old", "mixed", MIXED);
    const [stored] = await sql`select length(value::text) as n from ext_storage_records
                               where install_id = ${install.installId} and key = 'tiny'`;
    expect(stored?.n).toBeGreaterThan(3_000_000); // what the previous release returned

    const tiny = await raw(install, "GET", recordPath("old", "tiny"));
    expect(valueTextOf(tiny.text)).toBe(TINY);
    expect(tiny.text).toContain(`"value":${TINY},"revision":`);

    // the members' order was never kept by jsonb; the text is still JSON.stringify of the value
    const mixed = await raw(install, "GET", recordPath("old", "mixed"));
    const mixedText = valueTextOf(mixed.text);
    expect(bytes(mixedText)).toBe(bytes(JSON.stringify(JSON.parse(MIXED))));
    expect(mixedText).toContain("[1e+300,0,5e-324,1e+21,1e-7,0.1,-0.0125]");
    expect(JSON.parse(mixedText)).toEqual(JSON.parse(JSON.stringify(JSON.parse(MIXED))));

    const list = await raw(install, "GET", "/v1/namespaces/old/records?values=true");
    expect(list.text).toBe(JSON.stringify(JSON.parse(list.text)));
    expect(list.text).toContain(`"value":${TINY},"revision":`);
    expect(list.text).toContain(`"value":${mixedText},"revision":`);

    const bulk = await raw(install, "POST", "/v1/namespaces/old/bulk-get", `{"keys":["tiny","mixed"]}`);
    expect(bulk.text).toBe(JSON.stringify(JSON.parse(bulk.text)));
    expect(bulk.text).toContain(`"value":${TINY},"revision":`);
    expect(bulk.text).toContain(`"value":${mixedText},"revision":`);
    await expectUsageExact(install.installId, expect);

    // written again by this release, it keeps the order it is written in
    await raw(install, "PUT", recordPath("old", "mixed"), `{"value":${MIXED}}`);
    const again = await raw(install, "GET", recordPath("old", "mixed"));
    expect(valueTextOf(again.text)).toBe(JSON.stringify(JSON.parse(MIXED)));
  });

  test("a value written by this release and then replaced by the previous one reads back the replacement", async () => {
    // a rolling deploy runs both releases; the previous one writes jsonb, revision and size only
    const install = newInstall();
    await putRaw(install, "ns", "k", '{"b":1,"a":2}');
    const replacement = '{"c":[5e-324,1e300]}';
    await sql`update ext_storage_records
              set value = ${replacement}::text::jsonb, revision = revision + 1,
                  size_bytes = ${bytes(JSON.stringify(JSON.parse(replacement))) + 1}
              where install_id = ${install.installId} and key = 'k'`;
    await sql`update ext_storage_usage set bytes_used = (select sum(size_bytes) from ext_storage_records
              where install_id = ${install.installId}), last_revision = last_revision + 1
              where install_id = ${install.installId}`;
    const expected = '{"c":[5e-324,1e+300]}';
    expect(valueTextOf((await raw(install, "GET", recordPath("ns", "k"))).text)).toBe(expected);
    expect((await raw(install, "GET", "/v1/namespaces/ns/records")).text).toContain(`"value":${expected},`);
    expect((await raw(install, "POST", "/v1/namespaces/ns/bulk-get", '{"keys":["k"]}')).text).toContain(
      `"value":${expected},`,
    );
    await expectUsageExact(install.installId, expect);
  });

  test("every write still fills the jsonb column the previous release reads", async () => {
    const install = newInstall();
    await putRaw(install, "ns", "k", `{"b":5e-324,"a":[1e300]}`);
    const [row] = await sql`select value, value_json::text as text from ext_storage_records
                            where install_id = ${install.installId} and key = 'k'`;
    expect(row?.text).toBe(`{"b":5e-324,"a":[1e+300]}`);
    expect(row?.value).toEqual({ a: [1e300], b: 5e-324 });
  });
});

describe("namespace schemas", () => {
  const SCHEMA = `{"type":"object","properties":{"zeta":{"type":"number","maximum":1e300,"minimum":5e-324},"alpha":{"type":"string"}},"required":["zeta"]}`;
  const schemaPath = "/v1/namespaces/ns/schema";
  const SCOPE = "storage:read storage:write storage:schema";

  test("GET returns the schema with members in the order put and numbers as JavaScript writes them", async () => {
    const install = newInstall();
    const put = await raw(install, "PUT", schemaPath, `{"jsonSchema":${SCHEMA}}`, SCOPE);
    expect(put.status).toBe(201);
    const got = await raw(install, "GET", schemaPath, undefined, SCOPE);
    expect(got.status).toBe(200);
    expect(got.text).toContain(`"jsonSchema":${JSON.stringify(JSON.parse(SCHEMA))},`);
    expect(got.text).toContain(`"maximum":1e+300,"minimum":5e-324`);
    // and the stored schema still validates writes
    const bad = await raw(install, "PUT", recordPath("ns", "k"), `{"value":{"zeta":0}}`, SCOPE);
    expect(bad.status).toBe(422);
    expect((await raw(install, "PUT", recordPath("ns", "k"), `{"value":{"zeta":1}}`, SCOPE)).status).toBe(201);
  });

  test("a schema replaced by the previous release is the one read back and enforced", async () => {
    const install = newInstall();
    expect((await raw(install, "PUT", schemaPath, `{"jsonSchema":${SCHEMA}}`, SCOPE)).status).toBe(201);
    const replacement = '{"type":"array","maxItems":1}';
    await sql`update ext_storage_schemas set json_schema = ${replacement}::text::jsonb, version = version + 1
              where install_id = ${install.installId}`;
    await sql`update ext_storage_usage set last_schema_version = last_schema_version + 1
              where install_id = ${install.installId}`;
    const got = await raw(install, "GET", schemaPath, undefined, SCOPE);
    expect(JSON.parse(got.text).jsonSchema).toEqual(JSON.parse(replacement));
    expect((await raw(install, "PUT", recordPath("ns", "k"), '{"value":[1,2]}', SCOPE)).status).toBe(422);
    expect((await raw(install, "PUT", recordPath("ns", "k"), '{"value":[1]}', SCOPE)).status).toBe(201);
  });

  test("a schema put before json_schema_json existed reads back with JavaScript's numbers", async () => {
    const install = newInstall();
    await sql`insert into ext_storage_usage (install_id, tenant_id, extension_id, last_schema_version)
              values (${install.installId}, ${install.tenantId}, ${install.extensionId}, 1)`;
    await sql`insert into ext_storage_schemas (tenant_id, extension_id, install_id, namespace, json_schema, version)
              values (${install.tenantId}, ${install.extensionId}, ${install.installId}, 'ns', ${SCHEMA}::text::jsonb, 1)`;
    const got = await raw(install, "GET", schemaPath, undefined, SCOPE);
    expect(got.status).toBe(200);
    expect(got.text).toBe(JSON.stringify(JSON.parse(got.text)));
    expect(got.text).toContain(`"maximum":1e+300,"minimum":5e-324`);
    expect(JSON.parse(got.text).jsonSchema).toEqual(JSON.parse(SCHEMA));
  });
});

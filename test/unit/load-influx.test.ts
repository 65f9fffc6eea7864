// InfluxDB line protocol: escaping of names, tags and string fields; integers and floats.
import { describe, expect, test } from "bun:test";
import { line, stringField } from "../../bench/load/report/influx.ts";

describe("line protocol", () => {
  test("a point: measurement, sorted tags, fields, nanosecond time", () => {
    expect(
      line("m", { sub: "crud-mix", op: "get" }, { count: { int: 12 }, p95_ms: 3.25, ok: true }, 1700000000000000000n),
    ).toBe("m,op=get,sub=crud-mix count=12i,p95_ms=3.25,ok=true 1700000000000000000");
  });

  test("commas, spaces and equals signs are escaped where the protocol says", () => {
    expect(line("a b,c", { "k=1": "v 1,2=3" }, { "f x": 'say "hi" \\ bye' }, 1n)).toBe(
      'a\\ b\\,c,k\\=1=v\\ 1\\,2\\=3 f\\ x="say \\"hi\\" \\\\ bye" 1',
    );
    expect(stringField('a"b')).toBe('"a\\"b"');
  });

  test("empty tag values are left out; non-finite numbers do not break the line", () => {
    expect(line("m", { a: "", b: "x" }, { v: Number.NaN }, 5n)).toBe("m,b=x v=0 5");
  });
});

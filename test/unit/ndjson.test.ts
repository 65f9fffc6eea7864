import { describe, expect, test } from "bun:test";
import { type Line, ndjsonLines } from "../../src/http/ndjson.ts";

/** A stream of the given chunks, as a request body arrives. */
function body(...chunks: Array<string | Uint8Array>) {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === "string" ? encoder.encode(c) : c);
      controller.close();
    },
  });
}

async function lines(stream: ReadableStream<Uint8Array>, maxLineBytes = 100, maxTotalBytes = 1000) {
  const out: Line[] = [];
  for await (const line of ndjsonLines(stream, { maxLineBytes, maxTotalBytes })) out.push(line);
  return out;
}

async function refusal(stream: ReadableStream<Uint8Array>, maxLineBytes = 100, maxTotalBytes = 1000) {
  try {
    await lines(stream, maxLineBytes, maxTotalBytes);
  } catch (error) {
    const e = error as { code: string; message: string; details?: unknown };
    return { code: e.code, message: e.message, details: e.details };
  }
  throw new Error("not refused");
}

describe("ndjsonLines", () => {
  test("lines cut anywhere by the chunks come out whole, numbered, CRLF and blank lines handled", async () => {
    const text = '{"a":1}\r\n\n{"b":"é✓"}\n{"c":3}';
    const bytes = new TextEncoder().encode(text);
    // every split point, through the middle of a multi-byte character too
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await lines(body(bytes.subarray(0, cut), bytes.subarray(cut)))).toEqual([
        { number: 1, text: '{"a":1}' },
        { number: 3, text: '{"b":"é✓"}' },
        { number: 4, text: '{"c":3}' },
      ]);
    }
    expect(await lines(body())).toEqual([]);
  });

  test("a line over its bound is refused, even when it arrives in small chunks", async () => {
    const long = "x".repeat(101);
    const inPieces = Array.from({ length: 101 }, () => "x");
    for (const stream of [body(`ok\n${long}\n`), body("ok\n", ...inPieces, "\n"), body(`ok\n${long}`)]) {
      expect(await refusal(stream)).toEqual({
        code: "PAYLOAD_TOO_LARGE",
        message: "line 2 is over the limit of 100 bytes",
        details: { line: 2, limit: 100 },
      });
    }
    expect(await lines(body(`${"x".repeat(100)}\n`))).toHaveLength(1);
  });

  test("a body over its bound, or not UTF-8, is refused", async () => {
    const many = Array.from({ length: 20 }, () => `${"y".repeat(59)}\n`);
    expect((await refusal(body(...many), 100, 1000)).code).toBe("PAYLOAD_TOO_LARGE");
    expect(await refusal(body("ok\n", new Uint8Array([0xff, 0x0a])))).toEqual({
      code: "INVALID_REQUEST",
      message: "line 2: not valid UTF-8",
      details: { line: 2 },
    });
  });
});

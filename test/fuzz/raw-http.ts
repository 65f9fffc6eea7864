// A minimal HTTP/1.1 client over a raw socket: sends exactly the bytes it is given (invalid
// UTF-8 in the path, control characters, duplicated headers), which fetch would refuse or
// normalise, and reads one response. One connection per request (`connection: close`).
import { connect } from "node:net";

export type RawRequest = {
  method: string;
  /** the request target, sent as is (latin1: one byte per character) */
  path: string;
  headers: Array<[string, string]>;
  body?: Uint8Array;
  /**
   * Not valid HTTP/1.1, or over the HTTP layer's own limits (unknown method, conflicting
   * lengths, raw control bytes in the target, a header block over Bun's limit): the server's
   * HTTP parser answers or closes before the app sees the request.
   */
  malformed?: boolean;
};

export type RawResponse = { status: number; headers: Map<string, string>; body: string };

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < 100_000; i++) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = Number.parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

export function send(host: string, port: number, req: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const head =
    `${req.method} ${req.path} HTTP/1.1\r\nhost: ${host}:${port}\r\nconnection: close\r\n` +
    req.headers.map(([k, v]) => `${k}: ${v}\r\n`).join("") +
    (req.body === undefined ? "" : `content-length: ${req.body.byteLength}\r\n`) +
    "\r\n";
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // a watch stream never ends by itself: once its head says it is one, the client leaves
      const data = Buffer.concat(chunks);
      const end = data.indexOf("\r\n\r\n");
      if (end >= 0 && /\r\ncontent-type: text\/event-stream/i.test(data.subarray(0, end).toString("latin1"))) {
        socket.destroy();
      }
    });
    // a server may answer early (401, 413) and close while the body is still being sent:
    // the write then fails, but the answer is there to read, so judge what arrived
    let failure: Error | undefined;
    socket.on("error", (error) => {
      failure = error;
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) return reject(failure ?? new Error(`no complete response (${data.length} bytes)`));
      const lines = data.subarray(0, end).toString("latin1").split("\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1]);
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      let body: Buffer = data.subarray(end + 4);
      // a watch stream was left after its head: its body is not looked at
      if (headers.get("content-type")?.startsWith("text/event-stream")) body = Buffer.alloc(0);
      else if (headers.get("transfer-encoding")?.includes("chunked")) body = dechunk(body);
      resolve({ status, headers, body: body.toString("utf8") });
    });
    socket.write(Buffer.concat([Buffer.from(head, "latin1"), req.body ?? new Uint8Array(0)]));
  });
}

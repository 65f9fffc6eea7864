// One request on a fresh raw connection, for what fetch would normalise or refuse to send:
// dot segments, a missing or odd Host, HTTP/1.0, a declared body never sent, Expect.
import { connect } from "node:net";

export type Answer = { status: number; headers: Map<string, string>; body: string; interim: number[]; closed: boolean };

/** A request head, each header as given, in order. */
export const request = (method: string, target: string, headers: Record<string, string>, version = "1.1") =>
  `${method} ${target} HTTP/${version}\r\n` +
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("") +
  "\r\n";

/**
 * Writes `head` (and `body`, if given) on a fresh connection and reads the answer: interim
 * 1xx responses are noted, the final one parsed. `closed` tells whether the server closed
 * the connection within `waitMs` of the final answer.
 */
export function exchange(port: number, head: string, body?: Uint8Array, waitMs = 3000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let data = Buffer.alloc(0);
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const interim: number[] = [];
      let at = 0;
      for (let i = 0; i < 5; i++) {
        const end = data.indexOf("\r\n\r\n", at);
        if (end < 0) return reject(new Error(`no complete answer: ${JSON.stringify(data.toString("latin1"))}`));
        const lines = data.subarray(at, end).toString("latin1").split("\r\n");
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1]);
        if (status >= 100 && status < 200) {
          interim.push(status);
          at = end + 4;
          continue;
        }
        const headers = new Map<string, string>();
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(":");
          if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        }
        const length = Number(headers.get("content-length") ?? 0);
        const text = data.subarray(end + 4, end + 4 + length).toString("utf8");
        return resolve({ status, headers, body: text, interim, closed });
      }
      reject(new Error("too many interim answers"));
    };
    const timer = setTimeout(finish, waitMs);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      closed = true;
      finish();
    });
    socket.write(Buffer.concat([Buffer.from(head, "latin1"), body ?? new Uint8Array(0)]));
  });
}

// Runs the fuzzer against a service on a loopback port and judges every answer: never a
// 5xx; every app error in the contract's shape ({"error": {code, message, details?}},
// application/json, the code's own status, an x-request-id). Answers the HTTP layer gives
// before the app sees a request (a request line or header block it cannot parse) carry no
// x-request-id; they are counted apart and must be 4xx too.
import { ERROR_STATUS } from "../../src/errors.ts";
import { nextRequest, rng, type Tokens } from "./cases.ts";
import { type RawRequest, type RawResponse, send } from "./raw-http.ts";

export type Finding = { why: string; request: string; status: number; body: string };
export type FuzzReport = {
  requests: number;
  seconds: number;
  statuses: Record<string, number>;
  fiveHundreds: number;
  protocolLevel: number;
  /** malformed HTTP the server closed the connection on, without an answer */
  closedByHttpLayer: number;
  /** 5xx from the HTTP layer itself (505 for a raw control byte in the target) */
  httpLayer5xx: number;
  findings: Finding[];
};

const describe = (req: RawRequest) =>
  `${req.method} ${req.path.slice(0, 200)} [${req.headers.map(([k, v]) => `${k}: ${v.slice(0, 60)}`).join("; ")}] ` +
  `body ${req.body === undefined ? "none" : Buffer.from(req.body.subarray(0, 200)).toString("latin1")}`;

/** Why an answer breaks the contract, or undefined when it is fine. */
export function judge(req: RawRequest, res: RawResponse): string | undefined {
  // Bun's parser answers a raw control byte in the request target with 505 (the version
  // token it then reads is garbage); the app never sees such a request
  if (req.malformed && !res.headers.has("x-request-id") && res.status === 505) return undefined;
  if (!(res.status >= 100 && res.status < 500)) return `status ${res.status}`;
  if (res.status < 400 || req.method === "HEAD") return undefined;
  if (!res.headers.has("x-request-id")) return undefined; // the HTTP layer's own answer
  if (res.headers.get("content-type") !== "application/json") return `content-type ${res.headers.get("content-type")}`;
  let body: { error?: { code?: unknown; message?: unknown; details?: unknown } };
  try {
    body = JSON.parse(res.body);
  } catch {
    return "error body is not JSON";
  }
  const keys = Object.keys(body).join(",");
  const e = body.error;
  if (keys !== "error" || e === undefined || typeof e.message !== "string")
    return "error body not in the contract's shape";
  const extra = Object.keys(e).filter((k) => !["code", "message", "details"].includes(k));
  if (extra.length > 0) return `unexpected error fields ${extra}`;
  if (e.details !== undefined && (typeof e.details !== "object" || e.details === null || Array.isArray(e.details))) {
    return "details is not an object";
  }
  const status = ERROR_STATUS[e.code as keyof typeof ERROR_STATUS];
  if (status !== res.status) return `code ${String(e.code)} with status ${res.status}`;
  if (/\bat .*\.ts:\d|\bselect |\binsert |ext_storage_/i.test(res.body)) return "error body leaks internals";
  return undefined;
}

export async function fuzz(options: {
  url: string;
  tokens: Tokens;
  requests: number;
  seed: number;
  concurrency?: number;
  maxSeconds?: number;
}): Promise<FuzzReport> {
  const { hostname, port } = new URL(options.url);
  const r = rng(options.seed);
  const report: FuzzReport = {
    requests: 0,
    seconds: 0,
    statuses: {},
    fiveHundreds: 0,
    protocolLevel: 0,
    closedByHttpLayer: 0,
    httpLayer5xx: 0,
    findings: [],
  };
  const started = performance.now();
  const deadline = started + (options.maxSeconds ?? 600) * 1000;
  let issued = 0;
  const worker = async () => {
    while (issued < options.requests && performance.now() < deadline) {
      issued++;
      const req = nextRequest(r, options.tokens);
      let res: RawResponse;
      try {
        res = await send(hostname, Number(port), req);
      } catch (error) {
        if (req.malformed) {
          report.closedByHttpLayer++;
          continue;
        }
        report.findings.push({
          why: `no answer: ${(error as Error).message}`,
          request: describe(req),
          status: 0,
          body: "",
        });
        continue;
      }
      report.requests++;
      report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
      if (res.status >= 500 && res.headers.has("x-request-id")) report.fiveHundreds++;
      if (res.status >= 500 && !res.headers.has("x-request-id")) report.httpLayer5xx++;
      if (res.status >= 400 && !res.headers.has("x-request-id")) report.protocolLevel++;
      const why = judge(req, res);
      if (why !== undefined && report.findings.length < 50) {
        report.findings.push({ why, request: describe(req), status: res.status, body: res.body.slice(0, 300) });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

// Every benchmark checks the status of what it measures: a time is only worth printing for
// the answer the benchmark meant to measure (a 429 or a 503 is fast, and wrong).

/** Throws, naming the benchmark, when a status is not the expected one. */
export function checkStatus(what: string, status: number, expected: number | readonly number[], body = "") {
  const ok = typeof expected === "number" ? status === expected : expected.includes(status);
  if (!ok) throw new Error(`${what}: expected status ${expected}, got ${status} ${body.slice(0, 300)}`.trim());
}

/** checkStatus for a whole response; its body is read only when the status is wrong. */
export async function expectStatus(what: string, res: Response, expected: number | readonly number[]) {
  const ok = typeof expected === "number" ? res.status === expected : expected.includes(res.status);
  if (!ok) checkStatus(what, res.status, expected, await res.text().catch(() => ""));
}

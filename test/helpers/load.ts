// A small write load for the fault tests: each client PUTs its own key with a growing
// sequence number (and reads it back now and then), recording every outcome with its time,
// so a test can tell what was acknowledged, what failed, when, and how.

export type Outcome = { client: number; seq: number; method: string; status: number; start: number; end: number };

export type LoadResult = {
  outcomes: Outcome[];
  /** per client: the last sequence number a 2xx acknowledged */
  acked: number[];
  /** per client: sequence numbers whose write failed (it may or may not have committed) */
  unknown: number[][];
};

const key = (client: number) => `/v1/namespaces/faults/records/c${client}`;

export async function runLoad(base: string, token: string, clients: number, seconds: number): Promise<LoadResult> {
  const deadline = Date.now() + seconds * 1000;
  const result: LoadResult = {
    outcomes: [],
    acked: Array.from({ length: clients }, () => 0),
    unknown: Array.from({ length: clients }, () => []),
  };
  const call = async (client: number, seq: number, method: string, body?: string) => {
    const start = Date.now();
    let status = 0;
    try {
      const res = await fetch(base + key(client), {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body,
        signal: AbortSignal.timeout(10_000), // above the service's 5 s transaction limit
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      status = 0; // no answer at all
    }
    result.outcomes.push({ client, seq, method, status, start, end: Date.now() });
    return status;
  };
  const worker = async (client: number) => {
    for (let seq = 1; seq < 1_000_000 && Date.now() < deadline; seq++) {
      const status = await call(client, seq, "PUT", JSON.stringify({ value: seq }));
      if (status === 200 || status === 201) result.acked[client] = seq;
      else result.unknown[client]?.push(seq);
      if (seq % 4 === 0) await call(client, seq, "GET");
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => worker(c)));
  return result;
}

/** The value each client's key holds must be its last acknowledged write or a later failed one. */
export async function lostWrites(base: string, token: string, result: LoadResult) {
  const lost: Array<{ client: number; acked: number; found: unknown }> = [];
  for (const [client, acked] of result.acked.entries()) {
    const res = await fetch(base + key(client), { headers: { authorization: `Bearer ${token}` } });
    const found = res.status === 200 ? ((await res.json()) as { value: number }).value : null;
    const allowed = [acked, ...(result.unknown[client] ?? []).filter((s) => s > acked)];
    if (acked > 0 && !allowed.includes(found as number)) lost.push({ client, acked, found });
  }
  return lost;
}

/** Counts by status, e.g. {"200": 812, "503": 9}. */
export const histogram = (outcomes: readonly Outcome[]) =>
  outcomes.reduce<Record<string, number>>((h, o) => {
    h[o.status] = (h[o.status] ?? 0) + 1;
    return h;
  }, {});

// A small write load for the fault tests: each client PUTs a new key per write (its client
// and sequence number, the value the sequence number) and reads it back now and then,
// recording every outcome with its time, so a test can tell what was acknowledged, what
// failed, when, and how, and then check every write's fate in the database.

export type Outcome = { client: number; seq: number; method: string; status: number; start: number; end: number };

export type LoadResult = { outcomes: Outcome[] };

const key = (client: number, seq: number) => `c${client}s${seq}`;
const path = (client: number, seq: number) => `/v1/namespaces/faults/records/${key(client, seq)}`;

export async function runLoad(base: string, token: string, clients: number, seconds: number): Promise<LoadResult> {
  const deadline = Date.now() + seconds * 1000;
  const result: LoadResult = { outcomes: [] };
  const call = async (client: number, seq: number, method: string, body?: string) => {
    const start = Date.now();
    let status = 0;
    try {
      const res = await fetch(base + path(client, seq), {
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
      await call(client, seq, "PUT", JSON.stringify({ value: seq }));
      if (seq % 4 === 0) await call(client, seq, "GET");
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => worker(c)));
  return result;
}

/**
 * Every write's fate against its answer, from the keys the install holds: a 2xx write must be
 * there with its value (`lost` otherwise), a 503 must have left nothing (`appliedAfter503`:
 * the contract's "not applied"); a write that got no answer at all may be either.
 */
export async function writeFates(base: string, token: string, result: LoadResult) {
  const held = new Map<string, unknown>();
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const query = `?limit=1000${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
    const res = await fetch(`${base}/v1/namespaces/faults/records${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status !== 200) throw new Error(`listing the written keys answered ${res.status}`);
    const body = (await res.json()) as { items: { key: string; value: unknown }[]; cursor: string | null };
    for (const item of body.items) held.set(item.key, item.value);
    cursor = body.cursor;
    if (cursor === null) break;
  }
  const writes = result.outcomes.filter((o) => o.method === "PUT");
  return {
    lost: writes
      .filter((o) => o.status >= 200 && o.status < 300 && held.get(key(o.client, o.seq)) !== o.seq)
      .map((o) => ({ client: o.client, seq: o.seq, found: held.get(key(o.client, o.seq)) ?? null })),
    appliedAfter503: writes
      .filter((o) => o.status === 503 && held.has(key(o.client, o.seq)))
      .map((o) => ({ client: o.client, seq: o.seq })),
  };
}

/** Counts by status, e.g. {"200": 812, "503": 9}. */
export const histogram = (outcomes: readonly Outcome[]) =>
  outcomes.reduce<Record<string, number>>((h, o) => {
    h[o.status] = (h[o.status] ?? 0) + 1;
    return h;
  }, {});

// The open-loop schedule: due times, and latency measured from them even when the server
// (here, a task that takes 20 ms with one request in flight) cannot keep up.
import { describe, expect, test } from "bun:test";
import { arrivals, dueAt, runOpenLoop } from "../../bench/load/schedule.ts";

describe("open-loop schedule", () => {
  test("arrival i is due at i / rate, and a run has ceil(duration × rate) of them", () => {
    expect([dueAt(0, 50), dueAt(1, 50), dueAt(10, 50)]).toEqual([0, 20, 200]);
    expect(arrivals(50, 1000)).toBe(50);
    expect(arrivals(3, 1500)).toBe(5);
  });

  test("every arrival is run once, and latency counts the time spent queued behind the cap", async () => {
    const done: { op: string; due: number; latency: number; code: string | undefined }[] = [];
    const result = await runOpenLoop({
      ratePerSec: 200, // one every 5 ms
      durationMs: 200,
      maxInFlight: 1,
      next: (i) => ({ op: `op${i % 2}`, run: () => Bun.sleep(20).then(() => undefined) }),
      done: (op, due, doneMs, code) => done.push({ op, due, latency: doneMs - due, code }),
    });
    expect(result.scheduled).toBe(40);
    expect(done.length).toBe(40);
    expect([result.dropped, result.abandoned]).toEqual([0, 0]);
    // due times are the schedule's, in order
    expect(done.map((d) => d.due)).toEqual(Array.from({ length: 40 }, (_, i) => i * 5));
    // the 40th request waited for 39 others of 20 ms each: its latency shows it (no coordinated omission)
    expect((done.at(-1) as { latency: number }).latency).toBeGreaterThan(39 * 20 - 40 * 5);
  });

  test("the queue is bounded: the oldest waiting request is dropped and counted", async () => {
    const codes: (string | undefined)[] = [];
    const result = await runOpenLoop({
      ratePerSec: 1000,
      durationMs: 50,
      maxInFlight: 1,
      maxQueued: 5,
      graceMs: 2000,
      next: () => ({ op: "x", run: () => Bun.sleep(30).then(() => undefined) }),
      done: (_op, _due, _doneMs, code) => codes.push(code),
    });
    expect(result.dropped).toBeGreaterThan(0);
    expect(codes.filter((c) => c === "DRIVER_OVERLOAD").length).toBe(result.dropped);
  });

  test("a task that throws is an error, not a crash; undefined tasks are skipped", async () => {
    const codes: (string | undefined)[] = [];
    await runOpenLoop({
      ratePerSec: 100,
      durationMs: 50,
      maxInFlight: 4,
      next: (i) => (i % 2 === 0 ? undefined : { op: "x", run: () => Promise.reject(new TypeError("boom")) }),
      done: (_op, _due, _doneMs, code) => codes.push(code),
    });
    expect(codes).toEqual(["DRIVER_ERROR:TypeError", "DRIVER_ERROR:TypeError"]);
  });
});

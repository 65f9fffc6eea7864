// A service started with STORAGE_WORKERS above 1 is a primary and the workers it spawned:
// the load and rate benchmarks measure its CPU and memory over the whole process tree, not
// over the primary alone (which is what they did, reporting half a two-worker server).
import { afterEach, expect, test } from "bun:test";
import { cpuSeconds, processTree, rssMiB, treeCpuSeconds, treeRssMiB } from "../../bench/load/server.ts";

let parent: ReturnType<typeof Bun.spawn> | undefined;
afterEach(() => {
  parent?.kill("SIGKILL");
  parent = undefined;
});

test("a process's tree is it, its children and theirs; RSS and CPU are summed over it", async () => {
  // a shell with two children, one of which has a child of its own and first spends some CPU
  const busy = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done";
  parent = Bun.spawn(["sh", "-c", `sleep 30 & sh -c '${busy}; sleep 30 & wait' & wait`], { stdout: "ignore" });
  const pid = parent.pid;
  let tree: number[] = [];
  for (let i = 0; i < 50 && tree.length < 4; i++) {
    await Bun.sleep(50);
    tree = processTree(pid);
  }
  expect(tree[0]).toBe(pid);
  expect(tree.length).toBe(4);
  expect(new Set(tree).size).toBe(4);
  const own = rssMiB(pid) as number;
  expect(own).toBeGreaterThan(0);
  const all = treeRssMiB(pid) as number;
  const sum = tree.reduce((s, p) => s + (rssMiB(p) ?? 0), 0);
  expect(all).toBeGreaterThan(own);
  expect(Math.abs(all - sum)).toBeLessThan(1);
  // the shells' own CPU is next to nothing; the busy child's is the tree's
  for (let i = 0; i < 100 && treeCpuSeconds(pid) - cpuSeconds(pid) < 0.05; i++) await Bun.sleep(50);
  expect(treeCpuSeconds(pid) - cpuSeconds(pid)).toBeGreaterThanOrEqual(0.05);
  expect(processTree(2 ** 22 + 12345)).toEqual([2 ** 22 + 12345]);
  expect(treeRssMiB(undefined)).toBeUndefined();
});

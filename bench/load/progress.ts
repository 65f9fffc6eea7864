// The live progress line on a terminal: elapsed time, ops/s and p95 of the last second,
// errors so far. Redrawn in place once a second; nothing is printed when stdout is not a TTY.
import type { SubName } from "./options.ts";
import type { Recorder } from "./recorder.ts";

export function progressLine(sub: SubName, recorder: Recorder, elapsedMs: number): string {
  const last = recorder.seconds.at(-2) ?? recorder.seconds.at(-1);
  const { count, errors } = recorder.total();
  const ops = last === undefined ? 0 : last.read.count + last.write.count + last.other.count;
  const p95 = (h: { count: number; percentile(p: number): number }) =>
    h.count === 0 ? "–" : `${(h.percentile(95) / 1000).toFixed(1)} ms`;
  const phase = elapsedMs < recorder.warmupMs ? " (warm-up)" : "";
  return (
    `${sub}${phase} ${Math.floor(elapsedMs / 1000)} s | ${ops} ops/s | p95 read ${last ? p95(last.read) : "–"}` +
    ` write ${last ? p95(last.write) : "–"} | ${count} ops, ${errors} errors`
  );
}

export function ttyProgress(enabled: boolean) {
  const tty = enabled && process.stdout.isTTY === true;
  return {
    onTick: (sub: SubName, recorder: Recorder, elapsedMs: number) => {
      if (tty) process.stdout.write(`\r\x1b[2K${progressLine(sub, recorder, elapsedMs)}`);
    },
    clear: () => {
      if (tty) process.stdout.write("\r\x1b[2K");
    },
  };
}

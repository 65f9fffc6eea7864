// Reading a Prometheus text exposition, for assertions.

/** The value of one series, given its name and exact labels (0 when absent). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const [, rawLabels = "", value] = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line) ?? [];
    const parsed = Object.fromEntries([...rawLabels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (
      Object.entries(labels).every(([k, v]) => parsed[k] === v) &&
      Object.keys(parsed).length === Object.keys(labels).length
    ) {
      return Number(value);
    }
  }
  return 0;
}

/** Every series of a metric name, as label sets. */
export const series = (text: string, name: string) => text.split("\n").filter((line) => line.startsWith(`${name}{`));

export const scrape = async (base: string, headers: Record<string, string> = {}) =>
  (await fetch(`${base}/metrics`, { headers })).text();

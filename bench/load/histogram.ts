// A log-linear latency histogram in the HDR style: values are whole microseconds; below
// 2^SUB_BITS they are counted exactly, above it each power of two is cut into 2^SUB_BITS
// equal buckets, so any recorded value is known to within 1/2^SUB_BITS (0.8 %) of itself.
// Merging is adding counts, so per-second and per-worker histograms add up exactly.
// 64 k µs to 2^40 µs (12 days) fits in 34 × 128 counters: a few KiB per histogram.

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
const MAX_EXPONENT = 40;
const SIZE = (MAX_EXPONENT - SUB_BITS + 2) * SUB;

/** The bucket of a value in µs (clamped to [0, 2^40)). */
export function bucketOf(micros: number): number {
  const v = Math.min(Math.max(0, Math.floor(micros)), 2 ** MAX_EXPONENT - 1);
  if (v < SUB) return v;
  const exponent = Math.floor(Math.log2(v));
  // Math.log2 can be off by one near powers of two; correct it exactly.
  const e = 2 ** exponent > v ? exponent - 1 : 2 ** (exponent + 1) <= v ? exponent + 1 : exponent;
  const shift = e - SUB_BITS;
  return (shift + 1) * SUB + (Math.floor(v / 2 ** shift) - SUB);
}

/** The lowest value a bucket holds. */
export function bucketLow(index: number): number {
  if (index < SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  return (SUB + (index % SUB)) * 2 ** shift;
}

/** The highest value a bucket holds. */
export function bucketHigh(index: number): number {
  if (index < SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  return bucketLow(index) + 2 ** shift - 1;
}

export class Histogram {
  readonly counts = new Float64Array(SIZE);
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  sum = 0;

  /** Records one latency given in milliseconds (stored in µs). */
  recordMs(ms: number): void {
    this.record(Math.round(ms * 1000));
  }

  record(micros: number): void {
    const i = bucketOf(micros);
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count++;
    if (micros < this.min) this.min = micros;
    if (micros > this.max) this.max = micros;
    this.sum += micros;
  }

  add(other: Histogram): this {
    for (let i = 0; i < SIZE; i++) {
      const c = other.counts[i] ?? 0;
      if (c !== 0) this.counts[i] = (this.counts[i] ?? 0) + c;
    }
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.sum += other.sum;
    return this;
  }

  /**
   * The value at percentile p (0–100) in µs: the highest value of the bucket that holds the
   * ceil(p% × count)-th smallest sample, never above the true maximum. 0 when empty.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(bucketHigh(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Non-empty buckets as [low µs, high µs, count], in order: the distribution's shape. */
  buckets(): [number, number, number][] {
    const out: [number, number, number][] = [];
    for (let i = 0; i < SIZE; i++) {
      const c = this.counts[i] ?? 0;
      if (c !== 0) out.push([bucketLow(i), bucketHigh(i), c]);
    }
    return out;
  }
}

export const mergeAll = (histograms: Iterable<Histogram>) => {
  const total = new Histogram();
  for (const h of histograms) total.add(h);
  return total;
};

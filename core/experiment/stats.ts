/**
 * The experiment's statistics (issue 13): a seeded RNG, a two-stage paired bootstrap over (seed, problem) cells, and
 * "when did an arm first reach a level".
 *
 * Paired bootstrap: the difference of two arms is taken cell by cell — the same training seed r and the same held-out
 * problem p under the same forced-seed samples — so d[r][p] = a[r][p] − b[r][p]. One bootstrap replicate resamples the
 * seeds with replacement, then, within each drawn seed, the problems with replacement, and averages d over the drawn
 * cells; the 95 % interval is the 2.5 / 97.5 percentiles of the replicates (percentile method). Resampling seeds
 * carries the training-run variance into the interval (with R = 3 seeds it is coarse: say so when reading it);
 * resampling problems carries the finite held-out set's.
 *
 * @example
 *   const ci = pairedBootstrap(diffs, { iterations: 2000, seed: 'final' }); // { mean, lo, hi, cells }
 */
import { sha256 } from '../protocol/hash.ts';
import { utf8 } from '../protocol/codec.ts';
import { mulberry32 } from '../model/rng.ts';

/** mulberry32 seeded from a string. */
export function seededRandom(seed: string): () => number {
  const h = sha256(utf8(`reliquary/experiment/rng|${seed}`));
  return mulberry32(((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0);
}

/** A mean and its interval. */
export interface Interval {
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  /** Level of the interval (0.95). */
  readonly level: number;
}

export interface BootstrapOptions {
  readonly iterations?: number;
  readonly seed?: string;
  readonly level?: number;
  /** Resample the seeds too (default true); false: problems only, within every seed. */
  readonly resampleSeeds?: boolean;
}

const mean = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : NaN;
};

/** The mean of a seeds × problems matrix. */
export function matrixMean(m: readonly ArrayLike<number>[]): number {
  return mean(m.map((row) => mean(row)));
}

/** Cell-wise a − b of two seeds × problems matrices of the same shape (paired cells). */
export function pairedDiff(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number[][] {
  if (a.length !== b.length) throw new RangeError(`paired matrices differ in seeds: ${a.length} vs ${b.length}`);
  return a.map((row, r) => {
    const other = b[r]!;
    if (row.length !== other.length) throw new RangeError(`paired rows differ in problems: ${row.length} vs ${other.length}`);
    return Array.from(row, (x, p) => x - other[p]!);
  });
}

/** Percentile (linear interpolation) of a sorted array. */
function quantile(sorted: readonly number[], q: number): number {
  const x = q * (sorted.length - 1);
  const i = Math.floor(x);
  const f = x - i;
  return i + 1 < sorted.length ? sorted[i]! * (1 - f) + sorted[i + 1]! * f : sorted[i]!;
}

/** The two-stage paired bootstrap interval of the mean of `d` (seeds × problems); see the header. */
export function pairedBootstrap(d: readonly ArrayLike<number>[], o: BootstrapOptions = {}): Interval {
  const iterations = o.iterations ?? 2000;
  const level = o.level ?? 0.95;
  const rand = seededRandom(o.seed ?? 'bootstrap');
  const R = d.length;
  if (R === 0 || d.some((row) => row.length === 0)) return { mean: NaN, lo: NaN, hi: NaN, level };
  const reps: number[] = new Array(iterations);
  for (let it = 0; it < iterations; it++) {
    let s = 0;
    let n = 0;
    for (let k = 0; k < R; k++) {
      const row = d[o.resampleSeeds === false ? k : Math.floor(rand() * R)]!;
      const P = row.length;
      for (let j = 0; j < P; j++) s += row[Math.floor(rand() * P)]!;
      n += P;
    }
    reps[it] = s / n;
  }
  reps.sort((a, b) => a - b);
  return { mean: matrixMean(d), lo: quantile(reps, (1 - level) / 2), hi: quantile(reps, 1 - (1 - level) / 2), level };
}

/** The first x of a curve whose y reaches `target` (null when it never does). */
export function firstReach(points: readonly { readonly x: number; readonly y: number }[], target: number): number | null {
  for (const p of points) if (p.y >= target - 1e-12) return p.x;
  return null;
}

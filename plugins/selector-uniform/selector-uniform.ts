/**
 * `selectorUniform(options)`: upstream's miner selector (spec/market.md §10) — for each pick, an environment drawn
 * by the mix weights, then a uniformly random prompt index that is not cooled and not already picked this call.
 *
 * Sampling is exact, with no retry loop: with the excluded indices sorted, draw r uniformly in
 * [0, size − excluded) and step r past every excluded index ≤ it. An environment with no eligible prompt left (or
 * no weight, or not in `ctx.environments`) drops out of the draw, so fewer than `count` picks come back only when
 * fewer are eligible. The random source is a seeded sfc32 (seed → sha256 → state), so a seed replays exactly;
 * with `seed: null` it is seeded from `crypto.getRandomValues`.
 *
 * @example
 *   const selector = selectorUniform({ seed: 'miner-1' });
 *   await selector.pick({ state, environments: [arith], mix: [['arith', 4]], count: 8 });
 *   // → [{ env: 'arith', promptIdx: 5120 }, …], none in state.cooldowns.arith
 */
import { wrapIndex } from '../../core/interfaces/environment.ts';
import { pickWeighted, type Selector, type SelectorContext, type SelectorPick } from '../../core/interfaces/selector.ts';
import { readUBE, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';

export interface SelectorUniformOptions {
  /** RNG seed (string or integer); null seeds from the platform's random source. */
  seed: string | number | null;
}

/** Documented defaults: a random seed. */
export const SELECTOR_UNIFORM_DEFAULTS: Readonly<SelectorUniformOptions> = Object.freeze({ seed: null });

/** A random source: uniform floats in [0, 1) with 53 bits. */
export type Rng = () => number;

/** The uniform selector. */
export function selectorUniform(options: Partial<SelectorUniformOptions> = {}): Selector {
  const o: SelectorUniformOptions = { ...SELECTOR_UNIFORM_DEFAULTS, ...options };
  const rng = seededRng(o.seed);
  return {
    name: 'uniform',
    pick: function pick(ctx: SelectorContext): SelectorPick[] {
      return pickUniform(ctx, rng);
    },
  };
}

/** Up to `ctx.count` distinct uncooled picks drawn with `rng` (the pure core of the selector). */
export function pickUniform(ctx: SelectorContext, rng: Rng): SelectorPick[] {
  const count = Math.max(0, Math.floor(ctx.count));
  const byName = new Map(ctx.environments.map((e) => [e.name, e] as const));
  // Per env: weight, size, sorted excluded indices (cooled ∪ already picked), all within [0, size).
  const pools = ctx.mix
    .filter(([name, w]) => w > 0 && byName.has(name))
    .map(([name, weight]) => {
      const size = byName.get(name)!.size;
      const excluded = new Set<number>();
      for (const i of ctx.state.cooldowns[name] ?? []) if (Number.isSafeInteger(i)) excluded.add(wrapIndex(i, size));
      return { name, weight, size, excluded: [...excluded].sort((a, b) => a - b) };
    });
  const picks: SelectorPick[] = [];
  while (picks.length < count) {
    const live = pools.filter((p) => p.excluded.length < p.size);
    if (live.length === 0) break;
    const pool = pickWeighted(live, rng);
    const idx = nthEligible(Math.floor(rng() * (pool.size - pool.excluded.length)), pool.excluded);
    insertSorted(pool.excluded, idx);
    picks.push({ env: pool.name, promptIdx: idx });
  }
  return picks;
}

/** The r-th index (0-based) not in `excludedSorted`. */
export function nthEligible(r: number, excludedSorted: readonly number[]): number {
  let idx = r;
  for (const e of excludedSorted) {
    if (e <= idx) idx++;
    else break;
  }
  return idx;
}

function insertSorted(xs: number[], x: number): void {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  xs.splice(lo, 0, x);
}

/** sfc32 seeded from sha256 of the seed (or 16 random bytes when null); returns 53-bit floats in [0, 1). */
export function seededRng(seed: string | number | null): Rng {
  const bytes = seed === null ? globalThis.crypto.getRandomValues(new Uint8Array(16)) : sha256(utf8(`selector-uniform|${String(seed)}`));
  let a = Number(readUBE(bytes, 0, 4));
  let b = Number(readUBE(bytes, 4, 4));
  let c = Number(readUBE(bytes, 8, 4));
  let d = Number(readUBE(bytes, 12, 4));
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next(); // mix the seed in
  return function rng(): number {
    return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  };
}

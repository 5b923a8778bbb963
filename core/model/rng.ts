/**
 * `mulberry32(seed)`: the one tiny seeded PRNG of core (uniform in [0, 1)) — weight initialisation, the embedded
 * model recipe and the offline loop's prompt draws. Not for anything consensus-critical (the forced-seed sampler has
 * its own stream, core/protocol).
 *
 * @example
 *   const rand = mulberry32(1); rand(); // 0.6270739405881613
 */

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

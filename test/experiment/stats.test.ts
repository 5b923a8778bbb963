/**
 * The experiment's statistics (core/experiment/stats.ts): the paired-bootstrap interval of a known difference covers
 * it at about the stated rate on synthetic paired data, and pairing removes the shared problem difficulty.
 */
import { describe, expect, it } from 'vitest';
import { firstReach, pairedBootstrap, pairedDiff, seededRandom } from '../../core/experiment/stats.ts';

/**
 * R seeds × P problems of pass@1 estimates c/k for two arms whose true pass rates differ by `delta` on every problem,
 * sampled with common random numbers (the same uniforms for both arms, as forced-seed sampling shares its seeds).
 */
function synthetic(rand: () => number, R: number, P: number, delta: number, k = 4): { a: number[][]; b: number[][] } {
  const difficulty = Array.from({ length: P }, () => 0.15 + 0.6 * rand());
  const a: number[][] = [];
  const b: number[][] = [];
  for (let r = 0; r < R; r++) {
    const u = difficulty.map(() => Array.from({ length: k }, () => rand()));
    a.push(difficulty.map((q, p) => u[p]!.filter((x) => x < q + delta).length / k));
    b.push(difficulty.map((q, p) => u[p]!.filter((x) => x < q).length / k));
  }
  return { a, b };
}

describe('paired bootstrap', () => {
  it('the 95 % interval of a known difference covers it at about 95 %', () => {
    const rand = seededRandom('coverage');
    const delta = 0.05;
    const trials = 200;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const { a, b } = synthetic(rand, 3, 120, delta);
      const ci = pairedBootstrap(pairedDiff(a, b), { iterations: 400, seed: `t${t}` });
      if (ci.lo <= delta && delta <= ci.hi) covered++;
    }
    // binomial(200, 0.95): sd ≈ 1.5 %; the two-stage bootstrap with iid seeds is slightly conservative
    expect(covered / trials).toBeGreaterThanOrEqual(0.9);
    expect(covered / trials).toBeLessThanOrEqual(0.995);
  });

  it('pairing: the interval of a difference is much narrower than the arms\' own spread', () => {
    const { a, b } = synthetic(seededRandom('pairing'), 3, 300, 0.1);
    const d = pairedBootstrap(pairedDiff(a, b), { iterations: 500 });
    const own = pairedBootstrap(a, { iterations: 500 });
    expect(d.lo).toBeGreaterThan(0);
    expect(d.hi - d.lo).toBeLessThan(own.hi - own.lo);
    expect(() => pairedDiff(a, b.slice(1))).toThrow(/seeds/);
  });

  it('firstReach reads the first point at or above the target', () => {
    const pts = [{ x: 0, y: 0.4 }, { x: 10, y: 0.45 }, { x: 20, y: 0.5 }];
    expect(firstReach(pts, 0.45)).toBe(10);
    expect(firstReach(pts, 0.6)).toBeNull();
  });
});

/**
 * The stored π_old encoding (core/audit/pi-old.ts): f32 bytes round-trip exactly (NaN and −0 included), hostile
 * text is refused rather than half-decoded, and the comparison is bitwise in 'exact' mode and a per-token bound
 * otherwise, naming the first differing token.
 */
import { describe, expect, it } from 'vitest';
import { decodePiOld, encodePiOld, piOldMismatch } from '../../core/audit/pi-old.ts';
import { loadBatch, storeBatch } from '../../core/validator/progress.ts';

const lp = Float32Array.from([-0.125, -3.5e-7, Math.fround(-2.302585), -0, NaN, -17.25]);

describe('π_old encoding', () => {
  it('round-trips the exact f32 bits, and a stored batch trains on those bits', () => {
    const s = encodePiOld(lp);
    expect(Buffer.from(s, 'base64')).toEqual(Buffer.from(lp.buffer)); // little-endian f32 on every host we run
    const back = decodePiOld(s, lp.length)!;
    expect(Array.from(back).map((x) => Object.is(x, -0) ? '-0' : String(x))).toEqual(Array.from(lp).map((x) => Object.is(x, -0) ? '-0' : String(x)));
    const envs = [{ name: 'arith', maxNewTokens: 8, groups: [[{ tokens: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), promptLen: 2, reward: 1, logpOld: lp }]] }];
    const stored = JSON.parse(JSON.stringify(storeBatch(envs)));
    expect(stored.envs[0].groups[0][0].piOld).toBe(s);
    expect(piOldMismatch(loadBatch(stored)[0]!.groups[0]![0]!.logpOld as Float32Array, s, 'exact')).toBeNull();
  });

  it('refuses hostile text: wrong length, bad alphabet, not a string', () => {
    const s = encodePiOld(lp);
    expect(decodePiOld(s, lp.length + 1)).toBeNull();
    expect(decodePiOld(`${s.slice(0, -4)}!!!!`, lp.length)).toBeNull();
    expect(decodePiOld(123, 1)).toBeNull();
    expect(decodePiOld(null, 0)).toBeNull();
    expect(piOldMismatch(lp, 'AAAA', 'exact')).toMatch(/not 6 f32 values/);
  });

  it('exact is bitwise (one ulp is a mismatch, NaN matches NaN); a tolerance bounds each token', () => {
    const s = encodePiOld(lp);
    const near = lp.slice();
    near[2] = Math.fround(near[2]! + 2 ** -22); // one ulp-scale step
    expect(piOldMismatch(lp, s, 'exact')).toBeNull();
    expect(piOldMismatch(near, s, 'exact')).toMatch(/^token 2: stored .*, recomputed .* \(bitwise\)$/);
    expect(piOldMismatch(near, s, 2e-3)).toBeNull();
    const far = lp.slice();
    far[5] = far[5]! + 0.01;
    expect(piOldMismatch(far, s, 2e-3)).toMatch(/^token 5: .*\(tolerance 0\.002\)$/);
    const nan = lp.slice();
    nan[0] = NaN;
    expect(piOldMismatch(nan, s, 2e-3)).toMatch(/^token 0/);
  });
});

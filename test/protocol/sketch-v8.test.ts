/** GRAIL sketch v8 (proof v2): coefficients, buckets, drift candidates, forgery resistance, seal-randomness challenge. */
import { describe, expect, it } from 'vitest';
import { DEVNET, PRODUCTION_V2 } from '../../core/profile/index.ts';
import { MAX_DECISIONS, bucketV8, challengeV8, rVecV8, sketchCandidatesV8, sketchV8, sketchesV8 } from '../../core/protocol/sketch-v8.ts';

const R = '5f'.repeat(32);
const SEAL = 'a1'.repeat(32);
const Q = DEVNET.grail.modulus;
const C = 64;

/** A deterministic pseudo-random row (xorshift), values of RMSNorm-ish magnitude in ±4. */
function row(seed: number, n = C): Float32Array {
  let x = seed * 2654435761 + 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = (((x >>> 0) / 2 ** 32) * 2 - 1) * 4;
  }
  return out;
}

describe('v8 coefficients and buckets', () => {
  it('derives one coefficient per dimension in [0, Q) from the randomness', () => {
    const r = rVecV8(R, C, DEVNET);
    expect(r).toHaveLength(C);
    for (const v of r) expect(v >= 0 && v < Q).toBe(true);
    expect(rVecV8(R, C, DEVNET)).toEqual(r);
    expect(rVecV8('5e'.repeat(32), C, DEVNET)).not.toEqual(r);
    expect(() => rVecV8(R, 0, DEVNET)).toThrow(RangeError);
  });

  it('buckets by trunc(4·log2(|x|+1)) capped at 31, signed, 0 for NaN and tiny values', () => {
    expect(bucketV8(0, DEVNET)).toBe(0);
    expect(bucketV8(NaN, DEVNET)).toBe(0);
    expect(bucketV8(5e-7, DEVNET)).toBe(0);
    const edge = 2 ** (1 / 4) - 1; // bucket 1 starts here
    expect(bucketV8(edge * 1.0001, DEVNET)).toBe(1);
    expect(bucketV8(edge * 0.9999, DEVNET)).toBe(0);
    expect(bucketV8(-3, DEVNET)).toBe(-8); // 4·log2(4) = 8
    expect(bucketV8(1e9, DEVNET)).toBe(31);
    expect(bucketV8(-Infinity, DEVNET)).toBe(-31);
  });
});

describe('v8 sketch and its drift candidates', () => {
  const r = rVecV8(R, C, DEVNET);

  it('is the dot of the top-16 buckets with their dimensions’ coefficients, mod Q', () => {
    const h = row(1);
    const top = Array.from(h, (v, i) => [Math.abs(v), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 16);
    let dot = 0n;
    for (const [, i] of top) dot += BigInt(bucketV8(h[i]!, DEVNET)) * BigInt(r[i]!);
    const want = Number(((dot % BigInt(Q)) + BigInt(Q)) % BigInt(Q));
    expect(sketchV8(h, r, DEVNET)).toBe(want);
    expect(sketchCandidatesV8(h, r, DEVNET)[0]).toBe(want);
    expect(Array.from(sketchesV8(Float32Array.from([...h, ...row(2)]), 2, C, r, DEVNET))).toEqual([want, sketchV8(row(2), r, DEVNET)]);
  });

  it('accepts a row moved across a bucket edge by less than the ambiguity, and not by more', () => {
    const d = 5;
    const edge = 2 ** (6 / 4) - 1; // bucket 6 starts at 1.828…
    const below = row(3).map((v) => v * 0.4); // |v| < 1.6: d (at the edge) is on top
    below[d] = edge - 1e-4;
    const above = Float32Array.from(below);
    above[d] = edge + 1e-4;
    expect(sketchV8(above, r, DEVNET)).not.toBe(sketchV8(below, r, DEVNET));
    expect(sketchCandidatesV8(below, r, DEVNET)).toContain(sketchV8(above, r, DEVNET));
    const far = Float32Array.from(below);
    far[d] = edge - 0.05; // same bucket as `below`, but far from the edge: bucket 6 is no longer a candidate
    expect(sketchV8(far, r, DEVNET)).toBe(sketchV8(below, r, DEVNET));
    expect(sketchCandidatesV8(far, r, DEVNET)).not.toContain(sketchV8(above, r, DEVNET));
  });

  it('accepts a swap at the top-16 cut when the two magnitudes are within the ambiguity', () => {
    const h = row(4);
    const order = Array.from(h, (v, i) => [Math.abs(v), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const inside = order[15]![1];
    const outside = order[16]![1];
    const tied = Float32Array.from(h);
    tied[outside] = Math.sign(h[outside]!) * (Math.abs(h[inside]!) - 2e-4);
    const swapped = Float32Array.from(tied);
    swapped[outside] = Math.sign(h[outside]!) * (Math.abs(h[inside]!) + 2e-4);
    expect(sketchCandidatesV8(tied, r, DEVNET)).toContain(sketchV8(swapped, r, DEVNET));
  });

  it('bounds the candidates: at most 1 + D + D(D−1)/2 for D ≤ MAX_DECISIONS', () => {
    for (let s = 0; s < 200; s++) expect(sketchCandidatesV8(row(s), r, DEVNET).length).toBeLessThanOrEqual(1 + MAX_DECISIONS + (MAX_DECISIONS * (MAX_DECISIONS - 1)) / 2);
  });

  it('is not matched by a constant, a random value or another row’s sketch (0 of 2,000 rows each)', () => {
    let constant = 0, random = 0, copied = 0;
    let x = 12345;
    for (let s = 0; s < 2000; s++) {
      const cands = sketchCandidatesV8(row(s + 10), r, DEVNET);
      if (cands.includes(0)) constant++;
      x = (x * 1103515245 + 12345) % 2 ** 31;
      if (cands.includes(x % Q)) random++;
      if (cands.includes(sketchV8(row(s + 5000), r, DEVNET))) copied++;
    }
    expect([constant, random, copied]).toEqual([0, 0, 0]);
  });

  it('works at the Qwen3-4B width (C = 2560)', () => {
    const wide = rVecV8(R, 2560, PRODUCTION_V2);
    const h = row(7, 2560);
    expect(sketchCandidatesV8(h, wide, PRODUCTION_V2)[0]).toBe(sketchV8(h, wide, PRODUCTION_V2));
  });
});

describe('v8 challenge (seal randomness)', () => {
  const tokens = Array.from({ length: 300 }, (_, i) => (i * 7) % 31);

  it('draws min(K, C) distinct sorted completion positions, fixed by the tokens and the seal randomness', () => {
    const a = challengeV8(tokens, 100, SEAL, 32);
    expect(a).toHaveLength(32);
    expect(new Set(a).size).toBe(32);
    expect(a).toEqual([...a].sort((x, y) => x - y));
    for (const i of a) expect(i >= 100 && i < 300).toBe(true);
    expect(challengeV8(tokens, 100, SEAL, 32)).toEqual(a);
    expect(challengeV8(tokens, 100, 'a2'.repeat(32), 32)).not.toEqual(a);
    expect(challengeV8([...tokens.slice(0, -1), 3], 100, SEAL, 32)).not.toEqual(a);
  });

  it('checks every completion position when C ≤ K or the seal randomness is missing', () => {
    expect(challengeV8(tokens, 280, SEAL, 32)).toEqual(Array.from({ length: 20 }, (_, j) => 280 + j));
    expect(challengeV8(tokens, 100, '', 32)).toHaveLength(200);
    expect(() => challengeV8(tokens, 301, SEAL, 32)).toThrow(RangeError);
  });
});

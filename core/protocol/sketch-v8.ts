/**
 * GRAIL sketch `proof_version "v8"` (proof v2): a 31-bit fingerprint of one hidden-state row that a constant, random
 * or copied commitment matches with probability ~|candidates|/Q, not ~1 as v7's does (spec/protocol.md §3, §10.1).
 *
 * Legend: C = hidden size, K = `grail.topK` (16), Q = 2^31 − 1, s = `proof.sketchBucketScale`, B = `proof.sketchBucketMax`.
 *
 * Per position (row h of C values, the model's final hidden state as the backend computed it, f32):
 *   top   = the K dimensions of largest |h| (ties: lower index first; NaN ranks highest, as v7)
 *   b_d   = sign(h_d)·min(trunc(s·log2(|h_d|+1)), B), 0 for NaN or |h_d| < `grail.bucketZeroBelow`
 *   r_d   = u32 word d of SHAKE256(LP4("sketch-v8") ‖ LP4(hexdec(R)), 4C) mod Q  (one coefficient per *dimension*)
 *   sketch = (Σ_{d ∈ top} b_d·r_d) mod Q            (|terms| < 2^36, the sum is exact in float64)
 * What changed from v7 and why: v7's 16 coefficients in [−127, 127] are indexed by rank, so its dot lives in ±14,224
 * and is mostly 0–2 buckets wide; v8's coefficients are full-range and per dimension, so the sketch depends on *which*
 * dimensions are on top and on their finer (s = 4) log buckets, and equal sketches from different rows are
 * hash collisions (≈ 1/Q), not near-misses.
 *
 * Tolerance is not a distance any more (distance is meaningless for a hash): the validator accepts a commitment iff it
 * equals one of the sketches its own row yields when at most `sketchMaxFlips` *ambiguous* decisions go the other way.
 * A decision is ambiguous when its input is within η·(1 + |h|) of the boundary (η = `proof.sketchAmbiguity`, relative
 * for large values, absolute near 0): a bucket edge `x_k = 2^(k/s) − 1`, or the top-K cut (a dimension just inside
 * swapped with one just outside). η is calibrated from measured cross-backend |Δh| (`reliquary bench proof`). At
 * most `MAX_DECISIONS` decisions (nearest first) are enumerated, so at most 1 + 12 + 66 = 79 candidates per row:
 * a guess passes with probability ≤ 79/Q ≈ 3.7e-8 unless the row itself is predictable (e.g. all-zero buckets).
 *
 * Challenge: completion positions only (prompt rows are fixed by the prompt and prove nothing about the rollout),
 * drawn from the *seal* randomness, published after the reveal deadline, so a miner cannot know which positions will
 * be checked when it commits: `K' = min(challengeK, C)` distinct offsets by a partial Fisher–Yates over a SHAKE256
 * stream (no CPython MT: §10.2). Without a seal randomness every completion position is checked.
 *
 * @example
 *   const r = rVecV8(randomness, cfg.C, profile);
 *   const s = sketchV8(hiddenRow, r, profile);                      // miner: one commitment per position
 *   const ok = sketchCandidatesV8(validatorRow, r, profile).includes(claimed); // validator
 */
import { hexdec, toksBE } from './codec.ts';
import { prf, sha256 } from './hash.ts';
import type { Profile } from '../profile/index.ts';

/** The profile fields the v8 sketch reads. */
export type SketchV8Profile = Pick<Profile, 'grail' | 'proof'>;

/** PRF labels of the v8 coefficients and challenge. */
export const SKETCH_V8_LABEL = 'sketch-v8';
export const CHALLENGE_V8_LABEL = 'open-v8';
/** Ambiguous decisions enumerated per row at most (nearest to their boundary first). */
export const MAX_DECISIONS = 12;

/** Per-dimension coefficients r_d ∈ [0, Q) of a window (C of them). */
export function rVecV8(randomnessHex: string, C: number, p: SketchV8Profile): Uint32Array {
  if (!Number.isInteger(C) || C < 1 || 4 * C > 65536) throw new RangeError(`sketch v8: hidden size ${C} outside [1, 16384]`);
  const raw = prf(SKETCH_V8_LABEL, [hexdec(randomnessHex)], 4 * C);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const r = new Uint32Array(C);
  for (let d = 0; d < C; d++) r[d] = dv.getUint32(4 * d, false) % p.grail.modulus;
  return r;
}

/** Bucket magnitude of |x| (no sign): min(trunc(s·log2(|x|+1)), B); 0 for NaN or below the zero threshold. */
function magnitude(ax: number, p: SketchV8Profile): number {
  if (Number.isNaN(ax) || ax < p.grail.bucketZeroBelow) return 0;
  if (ax === Infinity) return p.proof.sketchBucketMax;
  return Math.min(p.proof.sketchBucketMax, Math.trunc(Math.log2(ax + 1) * p.proof.sketchBucketScale));
}

/** Signed v8 bucket of one value. */
export function bucketV8(x: number, p: SketchV8Profile): number {
  const m = magnitude(Math.abs(x), p);
  return m === 0 ? 0 : x >= 0 ? m : -m;
}

/** |x| with NaN ranked above everything (as v7's top-k). */
const rank = (x: number): number => (Number.isNaN(x) ? Infinity : Math.abs(x));

/** The K+1 highest-ranked dimensions of a row, best first (ties: lower index first); K+1 so the cut is visible. */
function ranked(row: ArrayLike<number>, K: number): number[] {
  const n = Math.min(K + 1, row.length);
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = rank(row[i]!);
    if (best.length === n && !(v > rank(row[best[n - 1]!]!))) continue;
    let pos = best.length === n ? n - 1 : best.length;
    while (pos > 0 && v > rank(row[best[pos - 1]!]!)) pos--;
    best.splice(pos, 0, i);
    if (best.length > n) best.pop();
  }
  return best;
}

const mod = (a: number, q: number): number => ((a % q) + q) % q;

/** The v8 sketch of one hidden-state row. */
export function sketchV8(row: ArrayLike<number>, r: Uint32Array, p: SketchV8Profile): number {
  const top = ranked(row, p.grail.topK).slice(0, p.grail.topK);
  let dot = 0;
  for (const d of top) dot += bucketV8(row[d]!, p) * r[d]!;
  return mod(dot, p.grail.modulus);
}

/** One ambiguous decision: how far its input is from the boundary (relative), the dimensions it touches, its Δsketch. */
interface Decision {
  readonly gap: number;
  readonly dims: readonly number[];
  readonly delta: number;
}

/**
 * Every sketch the validator accepts for its own row: the base sketch, then each combination of at most
 * `sketchMaxFlips` ambiguous decisions that touch distinct dimensions (see the file header). Base first.
 */
export function sketchCandidatesV8(row: ArrayLike<number>, r: Uint32Array, p: SketchV8Profile): number[] {
  const K = p.grail.topK;
  const eta = p.proof.sketchAmbiguity;
  const order = ranked(row, K);
  const top = order.slice(0, K);
  const near = (a: number, b: number): number => Math.abs(a - b) / (1 + Math.max(Math.abs(a), Math.abs(b)));
  const decisions: Decision[] = [];
  let base = 0;
  for (const d of top) {
    const x = row[d]!;
    const b = bucketV8(x, p);
    base += b * r[d]!;
    const ax = Math.abs(x);
    if (!Number.isFinite(ax)) continue;
    const m = Math.abs(b);
    const sign = x >= 0 ? 1 : -1;
    const edge = (k: number): number => 2 ** (k / p.proof.sketchBucketScale) - 1;
    // the lower edge of this bucket (could be one lower) and the upper edge (could be one higher)
    if (m >= 1) {
      const g = near(ax, edge(m));
      if (g <= eta) decisions.push({ gap: g, dims: [d], delta: -sign * r[d]! });
    }
    if (m < p.proof.sketchBucketMax) {
      const g = near(ax, edge(m + 1));
      if (g <= eta) decisions.push({ gap: g, dims: [d], delta: sign * r[d]! });
    }
  }
  const out = order[K];
  if (out !== undefined && top.length === K) {
    // the top-K cut: any inside dimension as close to the first outside one as η may swap with it
    const aOut = rank(row[out]!);
    for (const d of top) {
      const g = near(rank(row[d]!), aOut);
      if (Number.isFinite(g) && g <= eta) decisions.push({ gap: g, dims: [d, out], delta: -bucketV8(row[d]!, p) * r[d]! + bucketV8(row[out]!, p) * r[out]! });
    }
  }
  decisions.sort((a, b) => a.gap - b.gap);
  const ds = decisions.slice(0, MAX_DECISIONS);
  const Q = p.grail.modulus;
  const cands = [mod(base, Q)];
  const flips = p.proof.sketchMaxFlips;
  const disjoint = (a: Decision, b: Decision): boolean => !a.dims.some((d) => b.dims.includes(d));
  if (flips >= 1) for (const a of ds) cands.push(mod(base + a.delta, Q));
  if (flips >= 2) {
    for (let i = 0; i < ds.length; i++) for (let j = i + 1; j < ds.length; j++) if (disjoint(ds[i]!, ds[j]!)) cands.push(mod(base + ds[i]!.delta + ds[j]!.delta, Q));
  }
  return [...new Set(cands)];
}

/** v8 sketches of every row of a (T, C) row-major hidden-state block. */
export function sketchesV8(hidden: Float32Array, T: number, C: number, r: Uint32Array, p: SketchV8Profile): Int32Array {
  const out = new Int32Array(T);
  for (let t = 0; t < T; t++) out[t] = sketchV8(hidden.subarray(t * C, (t + 1) * C), r, p);
  return out;
}

/**
 * The challenged absolute positions of a rollout: `min(K, C)` distinct completion positions P+j drawn from the seal
 * randomness and the rollout's tokens, sorted; every completion position when C ≤ K or the seal randomness is "".
 * Stream: big-endian u64 words of SHAKE256(LP4("open-v8") ‖ LP4(H(toks_be(tokens))) ‖ LP4(hexdec(seal))), word i
 * `mod (C−i)` (bias < 2^-40 for C < 2^24) picks the swap of a partial Fisher–Yates over the offsets 0..C−1.
 */
export function challengeV8(tokens: readonly number[], P: number, sealRandomness: string, K: number): number[] {
  const L = tokens.length;
  const C = L - P;
  if (!Number.isInteger(P) || P < 0 || C < 0) throw new RangeError(`challenge v8: prompt length ${P} outside [0, ${L}]`);
  if (C <= K || sealRandomness === '') return Array.from({ length: C }, (_, j) => P + j);
  const digest = sha256(toksBE(tokens));
  const raw = prf(CHALLENGE_V8_LABEL, [digest, hexdec(sealRandomness)], 8 * K);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const pool = Array.from({ length: C }, (_, j) => j);
  const picked: number[] = [];
  for (let i = 0; i < K; i++) {
    const j = i + Number(dv.getBigUint64(8 * i, false) % BigInt(C - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    picked.push(P + pool[i]!);
  }
  return picked.sort((a, b) => a - b);
}

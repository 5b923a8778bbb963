/**
 * Forced sampling stream, protocol 4 (spec/protocol.md §4), and the validator's seed-consistency gates.
 *
 * Every completion token is drawn by inverse CDF from a public uniform `u_at(R, prompt, C, rollout, t)`,
 * so there is one legal generation per (prompt, rollout, window) and any miner gets the same stream.
 * The validator re-runs the teacher-forced logits, classifies each position (exact / stochastic / miss /
 * hard) and rejects a group whose stochastic positions match the stream too rarely (`SEED_MISMATCH`).
 *
 * fp32 conventions (mirroring torch where a bit-exact match is possible, documented where it is not):
 * - every element-wise op is rounded to fp32 (`Math.fround`), scalars are cast to fp32 as torch does
 *   for a Python scalar against an fp32 tensor;
 * - `cumsum` accumulates in float64 and rounds each output to fp32: bit-identical to torch's CPU cumsum
 *   (its accumulator type for float is double);
 * - reductions (softmax and renormalisation sums) accumulate in float64 and round once; torch's tree
 *   reductions are not reproducible bit for bit, the ε and ratio slack of the gates absorbs this (§10.10);
 * - softmax divides `exp(x − max)` by the sum (torch's CUDA epilogue; the CPU kernel multiplies by 1/sum);
 * - top-p sorts by probability descending with ties in token-id order (torch.sort's tie order is unspecified).
 *
 * @example
 *   const u = uAt(randomness, promptIdx, checkpointHash, rolloutIndex, t, V4.forcedSeed);
 *   const tok = pick(warp(logits, 1.0, 0, 1.0), u);
 */
import { concatBytes, readUBE, u16, u32, u64, utf8 } from './codec.ts';
import { sha256 } from './hash.ts';
import { Reason } from './reasons.ts';
import type { Profile } from '../profile/index.ts';

/** The forced-seed constants of a profile. */
export type ForcedSeedProfile = Profile['forcedSeed'];

const TWO_POW_64 = 2 ** 64;

/** `u64(digest[:8]) / 2^64` as float64, exactly as Python's `int / 2.0**64` (can round up to 1.0). */
export function uniformFromDigest(digest: Uint8Array): number {
  if (digest.length < 8) throw new RangeError(`digest too short: ${digest.length} bytes`);
  return Number(readUBE(digest, 0, 8)) / TWO_POW_64;
}

/**
 * The public uniform for rollout `rolloutIndex` at completion offset `t`:
 * `H(domain ‖ u16(len R)‖R ‖ u64(promptIdx) ‖ u16(len C)‖C ‖ u32(rolloutIndex) ‖ u32(t))`, R and C as text
 * (upstream `.encode()`, i.e. UTF-8; identical to ASCII for hex). R is case-sensitive; C is "" in bootstrap.
 * Proof v2 (`forcedSeed.bindHotkey`): `‖ u16(len K)‖K` follows C, K the miner's SS58 hotkey as text, so every
 * hotkey has its own stream; under v4 `hotkey` is ignored and the message is upstream's, byte for byte.
 */
export function uAt(
  randomness: string,
  promptIdx: number | bigint,
  checkpointHash: string,
  rolloutIndex: number,
  t: number,
  forcedSeed: ForcedSeedProfile,
  hotkey = '',
): number {
  const r = utf8(randomness);
  const c = utf8(checkpointHash);
  const k = forcedSeed.bindHotkey ? utf8(hotkey) : null;
  const msg = k
    ? concatBytes(utf8(forcedSeed.domain), u16(r.length), r, u64(promptIdx), u16(c.length), c, u16(k.length), k, u32(rolloutIndex), u32(t))
    : concatBytes(utf8(forcedSeed.domain), u16(r.length), r, u64(promptIdx), u16(c.length), c, u32(rolloutIndex), u32(t));
  return uniformFromDigest(sha256(msg));
}

/** Sum in float64, rounded once to fp32. */
function sumF32(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return Math.fround(s);
}

/** `torch.cumsum` of an fp32 vector (float64 accumulator, fp32 outputs), in index order. */
export function cumsumF32(p: ArrayLike<number>): Float32Array {
  const out = new Float32Array(p.length);
  let acc = 0;
  for (let i = 0; i < p.length; i++) {
    acc += p[i]!;
    out[i] = acc;
  }
  return out;
}

/**
 * Upstream `warp`, in fp32: `lg = logits/T`; top-k (k > 0) sets values below the k-th largest to −inf (ties
 * kept); softmax; top-p (0 < p < 1) keeps sorted-descending entries whose preceding mass is < p; `/= sum`.
 * Under v4 (T=1, k=0, p=1) this is the renormalised softmax of the fp32 logits. Result in token-id order.
 */
export function warp(logits: ArrayLike<number>, temperature: number, topK: number, topP: number): Float32Array {
  const v = logits.length;
  const t32 = Math.fround(temperature);
  const lg = new Float32Array(v);
  for (let i = 0; i < v; i++) lg[i] = Math.fround(logits[i]!) / t32;
  if (topK > 0) {
    const k = Math.min(topK, v);
    const kth = Float32Array.from(lg).sort()[v - k]!;
    for (let i = 0; i < v; i++) if (lg[i]! < kth) lg[i] = -Infinity;
  }
  let max = -Infinity;
  for (let i = 0; i < v; i++) if (lg[i]! > max || Number.isNaN(lg[i]!)) max = lg[i]!;
  const probs = new Float32Array(v);
  for (let i = 0; i < v; i++) probs[i] = Math.exp(Math.fround(lg[i]! - max));
  return normalizeWarped(probs, topP);
}

/**
 * The rest of `warp` after its exponentials: `probs` (fp32 `exp(lg − max)`, in place) normalised, top-p filtered
 * and renormalised. Shared with the proof forward's one-pass row reduction (core/model/proof.ts), which computes
 * the same exponentials while it sums them.
 */
export function normalizeWarped(probs: Float32Array, topP: number): Float32Array {
  const v = probs.length;
  const z = sumF32(probs);
  for (let i = 0; i < v; i++) probs[i] = probs[i]! / z;
  if (topP && topP < 1) {
    const p32 = Math.fround(topP);
    const order = Array.from({ length: v }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
    const cum = cumsumF32(order.map((i) => probs[i]!));
    order.forEach((tok, rank) => {
      if (!(Math.fround(cum[rank]! - probs[tok]!) < p32)) probs[tok] = 0;
    });
  }
  const s = sumF32(probs);
  for (let i = 0; i < v; i++) probs[i] = probs[i]! / s;
  return probs;
}

/** Inverse CDF: the first token id i with `cdf[i] > fp32(u)` (cdf in token-id order), clamped to V−1. */
export function pick(probs: ArrayLike<number>, u: number): number {
  if (probs.length === 0) throw new RangeError('pick: empty distribution');
  const u32v = Math.fround(u);
  let acc = 0;
  for (let i = 0; i < probs.length; i++) {
    acc += probs[i]!;
    if (Math.fround(acc) > u32v) return i;
  }
  return probs.length - 1;
}

/** Validator-side classification of one forced position. */
export interface PositionClass {
  /** `lower ≤ u < upper` (fp32): the token is the forced pick. */
  readonly exact: boolean;
  /** `max p < stochasticMaxP`: the position carries signal. */
  readonly stochastic: boolean;
  /** fp32 distance from u to [lower, upper); 0 when exact. */
  readonly miss: number;
  /** Not exact and `miss > hardMissDistance`. */
  readonly hard: boolean;
  readonly lower: number;
  readonly upper: number;
}

/** Classifies the submitted token `tok` against the warped distribution and the public uniform u. */
export function classifyPosition(probs: ArrayLike<number>, tok: number, u: number, forcedSeed: ForcedSeedProfile): PositionClass {
  if (!Number.isInteger(tok) || tok < 0 || tok >= probs.length) throw new RangeError(`token ${tok} outside [0, ${probs.length})`);
  let acc = 0;
  let maxP = -Infinity;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (i <= tok) acc += p;
    if (p > maxP || Number.isNaN(p)) maxP = p;
  }
  const upper = Math.fround(acc);
  const lower = Math.fround(upper - probs[tok]!);
  const uf = Math.fround(u);
  const exact = uf >= lower && uf < upper;
  const miss = uf < lower ? Math.fround(lower - uf) : uf >= upper ? Math.fround(uf - upper) : 0;
  const hard = !(exact || miss <= Math.fround(forcedSeed.hardMissDistance));
  const stochastic = maxP < Math.fround(forcedSeed.stochasticMaxP);
  return { exact, stochastic, miss, hard, lower, upper };
}

/** Per-rollout seed-consistency counts (upstream `seed_n_*`). */
export interface SeedTally {
  readonly nPositions: number;
  readonly nStochastic: number;
  /** Stochastic positions that are exact. */
  readonly nMatch: number;
  readonly nHardMismatch: number;
}

/** Sums position classes into a rollout tally. */
export function tallyPositions(classes: readonly PositionClass[]): SeedTally {
  let nStochastic = 0;
  let nMatch = 0;
  let nHardMismatch = 0;
  for (const c of classes) {
    if (c.stochastic) nStochastic++;
    if (c.stochastic && c.exact) nMatch++;
    if (c.hard) nHardMismatch++;
  }
  return { nPositions: classes.length, nStochastic, nMatch, nHardMismatch };
}

/** Which forced-seed rule rejected a group (upstream's log `scope`). */
export type SeedMismatchRule = 'cdf_hard_mismatch' | 'group' | 'rollout';

/** A forced-seed rejection. */
export interface SeedMismatch {
  readonly reason: typeof Reason.SEED_MISMATCH;
  readonly rule: SeedMismatchRule;
  /** The rejected rollout (rule 'rollout' only). */
  readonly rollout?: number;
}

/**
 * The group's forced-seed gates; null when the group passes or the gates abstain. Enforced only with a pinned
 * checkpoint (an unpinned hash is miner-controlled, so the stream is not bound). In upstream's order of report:
 * any hard mismatch (only if `cdfEnforce`); group Σstoch ≥ groupMinStochastic and Σmatch/Σstoch < groupMinMatchRatio;
 * any rollout with stoch ≥ rolloutMinStochastic and match/stoch < rolloutMinMatchRatio (ratios in float64).
 */
export function forcedSeedGate(rollouts: readonly SeedTally[], forcedSeed: ForcedSeedProfile, checkpointPinned: boolean): SeedMismatch | null {
  if (!checkpointPinned) return null;
  let stoch = 0;
  let match = 0;
  let hard = 0;
  for (const r of rollouts) {
    stoch += r.nStochastic;
    match += r.nMatch;
    hard += r.nHardMismatch;
  }
  if (forcedSeed.cdfEnforce && hard > 0) return { reason: Reason.SEED_MISMATCH, rule: 'cdf_hard_mismatch' };
  if (!forcedSeed.enforce) return null;
  if (stoch >= forcedSeed.groupMinStochastic && match / stoch < forcedSeed.groupMinMatchRatio) {
    return { reason: Reason.SEED_MISMATCH, rule: 'group' };
  }
  const bad = rollouts.findIndex(
    (r) => r.nStochastic >= forcedSeed.rolloutMinStochastic && r.nMatch / r.nStochastic < forcedSeed.rolloutMinMatchRatio,
  );
  return bad >= 0 ? { reason: Reason.SEED_MISMATCH, rule: 'rollout', rollout: bad } : null;
}

/** Terminal pick: whether the final (EOS) token is exactly the forced pick at its position. */
export function terminalPickOk(probs: ArrayLike<number>, lastToken: number, u: number): boolean {
  return pick(probs, u) === lastToken;
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Python `statistics.median`: middle value, or the mean of the two middle values for an even count. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of empty data');
  const s = [...xs].sort(compareNumbers);
  const i = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[i]! : (s[i - 1]! + s[i]!) / 2;
}

/** numpy `quantile(xs, q)` with the default 'linear' method (including numpy's lerp and NaN propagation). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new RangeError('quantile of empty data');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const a = Float64Array.from(xs).sort();
  const n = a.length;
  if (Number.isNaN(a[n - 1]!)) return NaN;
  const vi = (n - 1) * q;
  let prev = Math.floor(vi);
  let next = prev + 1;
  if (vi >= n - 1) prev = next = -1;
  const gamma = vi - prev;
  const lo = a[prev < 0 ? n + prev : prev]!;
  const hi = a[next < 0 ? n + next : next]!;
  const diff = hi - lo;
  return gamma >= 0.5 ? hi - diff * (1 - gamma) : lo + diff * gamma;
}

/**
 * The proof forward (validator side, spec/protocol.md §3–§5, training.md §1.6): one teacher-forced forward over the
 * submitted tokens with the same `Qwen3Model` code the miner generated with, reduced to a compact `ProofForward`
 * record that the pure checks of core/protocol/checks.ts consume. No V-sized row survives this file.
 *
 * Legend: L = tokens (prompt + completion), P = prompt length, Cn = L − P completion tokens, j = completion index
 * (0 … Cn−1) scored at logits row P+j−1, V = vocabulary, C = hidden size, R = rows per LM-head chunk.
 *
 * Per completion row the raw fp32 logits z (V) are computed on the backend (`Qwen3Model.logitsOf`, a matmul with the
 * LM head) R rows at a time, downloaded, and reduced on the host by `rowStats`:
 *   logprob  = z[tok] − logsumexp(z)                        (fp32 result, float64 sum; no log(softmax) underflow)
 *   chosenP  = softmax(z/T)[tok]; argmaxP, argmaxId of that softmax (full vocabulary, no top-k/p)
 *   probs    = warp(z, T, topK, topP)  (core/protocol/sampling.ts, the very function the sampler picks with)
 *   upper    = cdf[tok], lower = upper − probs[tok]          (fp32, `cumsumF32` semantics: float64 running sum → f32)
 *   maxP     = max probs → stochastic ⇔ maxP < f32(stochasticMaxP)
 * and, from the last row L−2, eosProb = Σ_EOS softmax(z) and (given the rollout's seed) the terminal pick
 * `pick(warp(z), u_{Cn−1})`. Sketches come from `sketchForward` on the same hidden states.
 *
 * @example
 *   const pf = await proofForward(model, tokens, { promptLength: P, randomness, profile: V4, eosTokenIds: [151643],
 *     sketchPositions: indicesFromRoot(tokens, randomness, L, Math.min(32, L), V4.grail),
 *     seed: { promptIdx, checkpointHash, rolloutIndex } });
 *   const u = Math.fround(uAt(randomness, promptIdx, checkpointHash, rolloutIndex, j, V4.forcedSeed));
 *   const exact = pf.cdfLower[j]! <= u && u < pf.cdfUpper[j]!;
 */
import type { Profile } from '../profile/index.ts';
import { normalizeWarped, pick, uAt, warp } from '../protocol/sampling.ts';
import { rVec } from '../protocol/sketch.ts';
import { rVecV8, sketchCandidatesV8, sketchesV8 } from '../protocol/sketch-v8.ts';
import type { Qwen3Model } from './forward.ts';

/** The profile fields the proof forward reads. */
export type ProofProfile = Pick<Profile, 'grail' | 'sampling' | 'forcedSeed' | 'proof'>;

/** The reductions of one logits row for the token `tok` (see the file header). */
export interface RowStats {
  logprob: number;
  chosenP: number;
  argmaxP: number;
  argmaxId: number;
  upper: number;
  lower: number;
  maxP: number;
}

/** max and Σ exp(z − max) (float64) of a row. */
function maxAndSumExp(z: ArrayLike<number>): [number, number] {
  let max = -Infinity;
  for (let i = 0; i < z.length; i++) if (z[i]! > max) max = z[i]!;
  let sum = 0;
  for (let i = 0; i < z.length; i++) sum += Math.exp(z[i]! - max);
  return [max, sum];
}

/** `log_softmax(z)[tok]` as fp32 `z[tok] − logsumexp(z)` (max-shifted, float64 sum, rounded once). */
export function logSoftmaxAt(z: ArrayLike<number>, tok: number): number {
  const [max, sum] = maxAndSumExp(z);
  return Math.fround(z[tok]! - Math.fround(max + Math.log(sum)));
}

/** `Σ_{e ∈ eos} softmax(z)[e]` of a raw logits row, in float64 rounded to fp32 (ids outside [0, V) are ignored). */
export function eosProbability(z: ArrayLike<number>, eosTokenIds: readonly number[]): number {
  const [max, sum] = maxAndSumExp(z);
  let p = 0;
  for (const e of new Set(eosTokenIds)) if (e >= 0 && e < z.length) p += Math.exp(z[e]! - max) / sum;
  return Math.fround(p);
}

/**
 * Every §4/§5 statistic of one raw fp32 logits row `z` (V) for the submitted token `tok`: the values of
 * `rowStatsReference` bit for bit. Without top-k, and with no NaN in the row, the exponentials `warp` takes are the
 * ones the chosen/argmax softmax sums, so one pass computes both (with log-softmax's own, of the raw row, beside them):
 * 2 exponentials per logit instead of 3, in 3 passes over the row instead of 8.
 */
export function rowStats(z: ArrayLike<number>, tok: number, sampling: ProofProfile['sampling']): RowStats {
  const V = z.length;
  if (!Number.isInteger(tok) || tok < 0 || tok >= V) throw new RangeError(`token ${tok} outside [0, ${V})`);
  if (sampling.topK > 0) return rowStatsReference(z, tok, sampling);
  const t32 = Math.fround(sampling.temperature);
  const lg = new Float32Array(V);
  let max = -Infinity; // of lg: warp's max and the softmax's
  let argmaxId = 0;
  let zmax = -Infinity; // of the raw row: log-softmax's
  let nan = false;
  for (let i = 0; i < V; i++) {
    const x = z[i]!;
    lg[i] = Math.fround(x) / t32;
    const l = lg[i]!; // the stored fp32 value, as warp reads it
    if (l > max) {
      max = l;
      argmaxId = i;
    }
    if (x > zmax) zmax = x;
    if (l !== l) nan = true;
  }
  if (nan) return rowStatsReference(z, tok, sampling); // warp's max takes a NaN, the softmax's skips it
  const probs = new Float32Array(V);
  let sum = 0;
  let zsumExp = 0;
  for (let i = 0; i < V; i++) {
    const e = Math.exp(Math.fround(lg[i]! - max));
    probs[i] = e;
    sum += e;
    zsumExp += Math.exp(z[i]! - zmax);
  }
  const zsum = Math.fround(sum);
  const soft = (i: number): number => Math.fround(Math.exp(Math.fround(lg[i]! - max)) / zsum);
  normalizeWarped(probs, sampling.topP);
  return fromWarped(probs, tok, Math.fround(z[tok]! - Math.fround(zmax + Math.log(zsumExp))), soft, argmaxId);
}

/** The §4 interval and max p from the warped row, with the log-prob and the softmax of the chosen and argmax ids. */
function fromWarped(probs: Float32Array, tok: number, logprob: number, soft: (i: number) => number, argmaxId: number): RowStats {
  let acc = 0;
  let maxP = -Infinity;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (i <= tok) acc += p;
    if (p > maxP || Number.isNaN(p)) maxP = p;
  }
  const upper = Math.fround(acc);
  return { logprob, chosenP: soft(tok), argmaxP: soft(argmaxId), argmaxId, upper, lower: Math.fround(upper - probs[tok]!), maxP };
}

/** `rowStats` written as its definition: the softmax, `warp` and `logSoftmaxAt` each on their own. */
export function rowStatsReference(z: ArrayLike<number>, tok: number, sampling: ProofProfile['sampling']): RowStats {
  const V = z.length;
  if (!Number.isInteger(tok) || tok < 0 || tok >= V) throw new RangeError(`token ${tok} outside [0, ${V})`);
  // softmax(z/T) in the steps of `warp` (fp32 elementwise, float64 sum rounded once), without top-k/p.
  const t32 = Math.fround(sampling.temperature);
  const lg = new Float32Array(V);
  let max = -Infinity;
  let argmaxId = 0;
  for (let i = 0; i < V; i++) {
    lg[i] = Math.fround(z[i]!) / t32;
    if (lg[i]! > max) {
      max = lg[i]!;
      argmaxId = i;
    }
  }
  let sum = 0;
  for (let i = 0; i < V; i++) sum += Math.exp(Math.fround(lg[i]! - max));
  const zsum = Math.fround(sum);
  const soft = (i: number): number => Math.fround(Math.exp(Math.fround(lg[i]! - max)) / zsum);

  return fromWarped(warp(z, sampling.temperature, sampling.topK, sampling.topP), tok, logSoftmaxAt(z, tok), soft, argmaxId);
}

export interface ProofForwardOptions {
  /** P ∈ [0, L]: completion token j is scored at row P+j−1 (entry 0 is NaN when P = 0). `model score` uses 1. */
  readonly promptLength: number;
  /** The validator's window randomness (hex): sketch coefficients r = rVec(randomness) (§3), and R of u_at (§4). */
  readonly randomness: string;
  readonly profile: ProofProfile;
  /** The EOS set (§5: union of generation_config, config and tokenizer ids) for eosProb. */
  readonly eosTokenIds: readonly number[];
  /** Absolute positions whose sketches to compute (the challenge); default every position 0 … L−1 (v4) or P … L−1 (v2). */
  readonly sketchPositions?: readonly number[];
  /** The rollout's place in the forced-seed stream; when given, `terminalPickId` is computed (§4 terminal pick). */
  readonly seed?: { readonly promptIdx: number | bigint; readonly checkpointHash: string; readonly rolloutIndex: number; readonly hotkey?: string };
  /** Rows per LM-head chunk (default 64, training.md §1.6): bounds host memory at R×V floats. */
  readonly chunkRows?: number;
}

/**
 * Everything the §3–§5 checks (core/protocol/checks.ts, structurally its `ProofForward`) and training's pi_old need
 * from one teacher-forced forward. Per-completion arrays have length Cn = L − P, index j, row P+j−1.
 */
export interface ProofForward {
  /** The submitted tokens, prompt + completion (L). */
  readonly tokens: number[];
  /** P. */
  readonly promptLength: number;
  readonly vocabSize: number;
  /** §3 "recomputes each sketch from its own forward pass": the sketch at absolute position i, holes elsewhere. */
  readonly sketches: (number | undefined)[];
  /** Proof v2: the v8 sketches accepted at each completion position (base first; `sketchCandidatesV8`), holes elsewhere. */
  readonly sketchCandidates?: (number[] | undefined)[];
  /** §5 `chosen_p[j] = softmax(fp32 logits[P+j−1]/T)[tok]`, full vocabulary, no top-k/p (training §1.7 pi_old). */
  readonly chosenProb: Float32Array;
  /** §5 Logprobs / training §1.6: `log_softmax(raw fp32 logits[P+j−1])[tok]` as `logit − logsumexp`. */
  readonly chosenLogprob: Float32Array;
  /** §5 "The argmax probability and id come from the same row" (token authenticity, boxed answer). */
  readonly argmaxProb: Float32Array;
  readonly argmaxId: Int32Array;
  /** §4 Validator: `lower = upper − p[tok]`, `upper = cdf[tok]` of warp(logits[P+j−1]) in token-id order (fp32). */
  readonly cdfLower: Float32Array;
  readonly cdfUpper: Float32Array;
  /** §4 `max p` of the warped row, and `stochastic[j]` = maxProb < f32(forcedSeed.stochasticMaxP) (1 / 0). */
  readonly maxProb: Float32Array;
  readonly stochastic: Uint8Array;
  /** §5 Termination: `p_stop = Σ_EOS softmax(raw logits[L−2])`; null when that row is not a completion row. */
  readonly eosProb: number | null;
  /** §4 Terminal pick: `pick(warp(logits[L−2]), u_{L−1−P})`; null without `seed` or a completion row. */
  readonly terminalPickId: number | null;
}

/**
 * The GRAIL sketches (L) of every position of one sequence, the miner's commitments: batch-1 cache-less forward, then
 * v7 (`sketchForward` on the backend, §3) or, under proof v2, v8 (core/protocol/sketch-v8.ts on the downloaded rows).
 */
export async function sketchesOf(model: Qwen3Model, tokens: Int32Array, randomness: string, profile: Pick<Profile, 'grail' | 'proof'>): Promise<Int32Array> {
  const { grail } = profile;
  const L = tokens.length;
  const hidden = model.hiddenForward(tokens, 1, L);
  try {
    if (profile.proof.scheme === 'v2') return sketchesV8(await model.be.download(hidden), L, model.cfg.C, rVecV8(randomness, model.cfg.C, profile), profile);
    return await model.be.sketchForward(hidden, rVec(randomness, grail), 1, L, model.cfg.C, grail);
  } finally {
    model.be.dispose(hidden);
  }
}

/** `tokens` as an Int32Array after checking each is an integer id in [0, V); the error names `who` and the position. */
export function checkTokenIds(tokens: ArrayLike<number>, V: number, who: string): Int32Array {
  const ids = Int32Array.from(tokens);
  ids.forEach((t, i) => {
    if (!(t >= 0 && t < V) || t !== tokens[i]) throw new RangeError(`${who}: token ${String(tokens[i])} at position ${i} outside [0, ${V})`);
  });
  return ids;
}

/** One sequence's checked inputs: token ids, P, the sketch positions. */
interface Checked {
  readonly ids: Int32Array;
  readonly P: number;
  readonly positions: readonly number[];
  readonly opts: ProofForwardOptions;
}

function checkInputs(model: Qwen3Model, tokens: ArrayLike<number>, opts: ProofForwardOptions): Checked {
  const L = tokens.length;
  const P = opts.promptLength;
  if (L < 1) throw new RangeError('proofForward: no tokens');
  if (!Number.isInteger(P) || P < 0 || P > L) throw new RangeError(`proofForward: prompt length ${P} outside [0, ${L}]`);
  const ids = checkTokenIds(tokens, model.cfg.V, 'proofForward');
  const v2 = opts.profile.proof.scheme === 'v2';
  // v4: every position by default; v2: every completion position (prompt rows prove nothing about the rollout)
  const positions = opts.sketchPositions ?? Array.from({ length: v2 ? L - P : L }, (_, i) => (v2 ? P + i : i));
  for (const p of positions) if (!(Number.isInteger(p) && p >= 0 && p < L)) throw new RangeError(`proofForward: sketch position ${p} outside [0, ${L})`);
  return { ids, P, positions, opts };
}

/** The teacher-forced proof forward of one sequence (batch 1, no cache, as §3 prescribes). See the file header. */
export async function proofForward(model: Qwen3Model, tokens: ArrayLike<number>, opts: ProofForwardOptions): Promise<ProofForward> {
  return (await proofForwards(model, [{ tokens, opts }], 0))[0]!;
}

/**
 * Rows (B · longest sequence) one batched forward of `proofForwards` may hold; past it the sequences go in several
 * batches. 2048 rows of the 0.6B shape keep the batch's hidden states at 8 MiB and the widest activation at 24 MiB.
 */
export const PROOF_BATCH_ROWS = 2048;

/**
 * The proof forwards of several sequences (a group's rollouts), each exactly what `proofForward` gives it, with the
 * hidden states of consecutive sequences computed as one right-padded batch of at most `batchRows` rows. Causal
 * attention never reads a later position, every row of a matmul, norm and RoPE is computed alone, and the wasm
 * backend reduces each row in an order independent of the row count once the call has 4 rows or more; so a sequence
 * of 4 tokens or more gets the same bits in a batch as alone (test/model/proof-batch.test.ts). Shorter ones run
 * alone. The sequences share one randomness and profile (a group's rollouts do). Throws (before any forward) on a
 * token id outside the vocabulary, a bad prompt length or position, or sequences that do not share them.
 */
export async function proofForwards(
  model: Qwen3Model, seqs: readonly { readonly tokens: ArrayLike<number>; readonly opts: ProofForwardOptions }[], batchRows = PROOF_BATCH_ROWS,
): Promise<ProofForward[]> {
  const first = seqs[0]?.opts;
  if (seqs.some((x) => x.opts.randomness !== first!.randomness || x.opts.profile !== first!.profile)) {
    throw new RangeError('proofForwards: the sequences of one call share the window randomness and the profile (a group\'s rollouts do)');
  }
  const checked = seqs.map((x) => checkInputs(model, x.tokens, x.opts));
  const out: ProofForward[] = new Array(checked.length);
  let i = 0;
  while (i < checked.length) {
    // the longest run of consecutive batchable sequences from i that fits the row budget (at least one sequence)
    let j = i + 1;
    let maxL = checked[i]!.ids.length;
    if (maxL >= 4) {
      while (j < checked.length && checked[j]!.ids.length >= 4 && (j + 1 - i) * Math.max(maxL, checked[j]!.ids.length) <= batchRows) {
        maxL = Math.max(maxL, checked[j]!.ids.length);
        j++;
      }
    }
    const batch = checked.slice(i, j);
    const hidden = await batchHidden(model, batch, maxL);
    for (const [b, c] of batch.entries()) out[i + b] = await reduceRows(model, c, hidden.host.subarray(b * maxL * model.cfg.C, (b * maxL + c.ids.length) * model.cfg.C), hidden.sketches?.subarray(b * maxL, b * maxL + c.ids.length) ?? null);
    i = j;
  }
  return out;
}

/** Hidden states (B · T · C, on the host) of right-padded sequences, and (v4) the sketch of every row. */
async function batchHidden(model: Qwen3Model, batch: readonly Checked[], T: number): Promise<{ host: Float32Array; sketches: Int32Array | null }> {
  const { be, cfg } = model;
  const B = batch.length;
  const ids = new Int32Array(B * T); // padding: token 0, read by no real row
  batch.forEach((c, b) => ids.set(c.ids, b * T));
  const hidden = model.hiddenForward(ids, B, T);
  try {
    const { opts } = batch[0]!; // one sketch call: the sequences share the randomness and profile (proofForwards)
    const sketches = opts.profile.proof.scheme !== 'v2' ? await be.sketchForward(hidden, rVec(opts.randomness, opts.profile.grail), B, T, cfg.C, opts.profile.grail) : null;
    return { host: await be.download(hidden), sketches };
  } finally {
    be.dispose(hidden);
  }
}

/** One sequence's ProofForward from its hidden rows (L × C) and, under v4, its sketches of every row. */
async function reduceRows(model: Qwen3Model, c: Checked, hiddenHost: Float32Array, all: Int32Array | null): Promise<ProofForward> {
  const { be, cfg } = model;
  const { C, V } = cfg;
  const { ids, P, positions, opts } = c;
  const L = ids.length;
  const { sampling, forcedSeed } = opts.profile;
  const sketches: (number | undefined)[] = new Array<number | undefined>(L);
  let sketchCandidates: (number[] | undefined)[] | undefined;
  if (all) {
    for (const p of positions) sketches[p] = all[p]!;
  } else {
    // v8: the candidate sketches of the requested rows (the prover asks for the seal-challenged ones only)
    const r = rVecV8(opts.randomness, C, opts.profile);
    sketchCandidates = new Array<number[] | undefined>(L);
    for (const i of positions) {
      const cands = sketchCandidatesV8(hiddenHost.subarray(i * C, (i + 1) * C), r, opts.profile);
      sketchCandidates[i] = cands;
      sketches[i] = cands[0];
    }
  }

  const Cn = L - P;
  const pf = {
    tokens: Array.from(ids), promptLength: P, vocabSize: V, sketches, sketchCandidates,
    chosenProb: new Float32Array(Cn).fill(NaN), chosenLogprob: new Float32Array(Cn).fill(NaN),
    argmaxProb: new Float32Array(Cn).fill(NaN), argmaxId: new Int32Array(Cn).fill(-1),
    cdfLower: new Float32Array(Cn).fill(NaN), cdfUpper: new Float32Array(Cn).fill(NaN),
    maxProb: new Float32Array(Cn).fill(NaN), stochastic: new Uint8Array(Cn),
    eosProb: null as number | null, terminalPickId: null as number | null,
  };
  const stochMax = Math.fround(forcedSeed.stochasticMaxP);
  const R = Math.max(1, opts.chunkRows ?? 64);
  const j0 = P === 0 ? 1 : 0; // entry 0 has no predicting row when P = 0
  for (let ja = j0; ja < Cn; ja += R) {
    const n = Math.min(R, Cn - ja);
    const row0 = P + ja - 1;
    const rows = be.upload(hiddenHost.subarray(row0 * C, (row0 + n) * C), [n, C]);
    let logits: Float32Array;
    try {
      logits = await model.logitsOf(rows, n);
    } finally {
      be.dispose(rows);
    }
    for (let r = 0; r < n; r++) {
      const j = ja + r;
      const z = logits.subarray(r * V, (r + 1) * V);
      const s = rowStats(z, ids[P + j]!, sampling);
      pf.chosenLogprob[j] = s.logprob;
      pf.chosenProb[j] = s.chosenP;
      pf.argmaxProb[j] = s.argmaxP;
      pf.argmaxId[j] = s.argmaxId;
      pf.cdfUpper[j] = s.upper;
      pf.cdfLower[j] = s.lower;
      pf.maxProb[j] = s.maxP;
      pf.stochastic[j] = s.maxP < stochMax ? 1 : 0;
      if (j === Cn - 1) {
        if (opts.eosTokenIds.length > 0) pf.eosProb = eosProbability(z, opts.eosTokenIds);
        if (opts.seed) {
          const { promptIdx, checkpointHash, rolloutIndex, hotkey } = opts.seed;
          const u = uAt(opts.randomness, promptIdx, checkpointHash, rolloutIndex, j, forcedSeed, hotkey ?? '');
          pf.terminalPickId = pick(warp(z, sampling.temperature, sampling.topK, sampling.topP), u);
        }
      }
    }
  }
  return pf;
}

/**
 * Miner-side generation (spec/protocol.md §3–§4, training.md §2): M rollouts of one prompt, batched on a backend
 * with a KV cache, every token picked by the forced-seed sampler, then the GRAIL commitments from one proof forward
 * per rollout.
 *
 * Legend: M = rollouts (the batch B of the cache), P = prompt length, t = completion offset (0 … maxNewTokens−1),
 * V = vocabulary, S = cache capacity (P + maxNewTokens).
 *
 * Decode loop. The cache is prefilled with the M copies of prompt[0 … P−2]; step t then feeds one token per
 * sequence (prompt[P−1] at t = 0, the previous pick after) and gets back the (M,C) hidden rows, whose raw fp32 logits
 * z (M,V) come from `Qwen3Model.logitsOf` (a matmul with the LM head). On the host, per live rollout m:
 *   probs = warp(z, T, topK, topP)                         (sampling.ts: fp32, token-id order; v4: softmax(z))
 *   tok   = pick(probs, uAt(R, promptIdx, ckpt, m, t))     (inverse CDF, §4)
 *   logprob[t] = z[tok] − logsumexp(z)                     (proof.ts `logSoftmaxAt`, the miner's token_logprobs)
 * A rollout ends after its first EOS (kept) or at maxNewTokens (`truncated`); finished rows keep decoding as padding
 * until every rollout is done (the cache has no ragged lengths).
 *
 * Why fp32 logits + host `warp` and not the backend's `lmHeadProbsForward`: the log-prob needs the logits anyway
 * (`log(softmax)` underflows, training §1.6), `warp` is the spec's function for every profile (temperature, top-k,
 * top-p), and the validator's proof forward (proof.ts) applies the very same `warp` to its teacher-forced logits, so
 * an honest rollout is all-exact whenever the two logits rows agree. Cost: one LM-head matmul per step, as either way.
 *
 * Commitments (§3) are *not* the decode-time hidden states: each finished rollout gets one teacher-forced
 * forward (batch 1, no cache; proof.ts `sketchesOf`, the hidden states of `proofForward`) over prompt+completion,
 * exactly what the validator recomputes.
 *
 * @example
 *   const out = await generateRollouts(model, { prompt, profile: V4, maxNewTokens: 8192, eosTokenIds: [151643],
 *     stream: { randomness, promptIdx: 7, checkpointHash: '' }, onProgress: (p) => bar.update(p.generated) });
 *   out[0].tokens; out[0].logprobs; out[0].commitments;
 */
import type { Profile } from '../profile/index.ts';
import { pick, uAt, warp } from '../protocol/sampling.ts';
import type { Qwen3Model } from './forward.ts';
import { checkTokenIds, logSoftmaxAt, sketchesOf } from './proof.ts';

/** The forced-seed stream of one prompt (§4): `u = uAt(randomness, promptIdx, checkpointHash, rollout, t)`. */
export interface SeedStream {
  /** The window randomness as sent (hex text, case-sensitive); also the sketch randomness of the commitments. */
  readonly randomness: string;
  readonly promptIdx: number | bigint;
  /** The 40-hex HF revision, or "" in bootstrap. */
  readonly checkpointHash: string;
  /** The miner's SS58 hotkey: part of the stream under proof v2 (`forcedSeed.bindHotkey`); ignored under v4. */
  readonly hotkey?: string;
}

export interface GenerateOptions {
  /** Prompt token ids, P ≥ 1. */
  readonly prompt: ArrayLike<number>;
  /** Sampling (T, top-k, top-p, M = rollouts), forced-seed domain and GRAIL constants. */
  readonly profile: Pick<Profile, 'sampling' | 'forcedSeed' | 'grail' | 'proof'>;
  /** Rollouts M (default profile.sampling.rollouts). */
  readonly rollouts?: number;
  /** rollout_index of the first rollout (default 0): rollout m uses index firstRollout + m. */
  readonly firstRollout?: number;
  readonly maxNewTokens: number;
  /** Stop after the first of these (the model's EOS set). */
  readonly eosTokenIds: readonly number[];
  readonly stream: SeedStream;
  /** Called after every decode step, and once more after the commitments are computed. */
  readonly onProgress?: (p: GenerationProgress) => void;
}

export interface GenerationProgress {
  /** Decode steps done (≤ maxNewTokens). */
  readonly step: number;
  readonly maxNewTokens: number;
  /** Completion tokens generated so far, summed over the rollouts. */
  readonly generated: number;
  /** Rollouts still generating. */
  readonly active: number;
  /** 'decode' after each step; 'commit' after each rollout's proof forward but the last, which reports 'done'. */
  readonly phase: 'decode' | 'commit' | 'done';
}

export interface Rollout {
  /** rollout_index in the group (§4 u_at). */
  readonly rolloutIndex: number;
  /** Prompt + completion, L = P + completionLength. */
  readonly tokens: Int32Array;
  readonly promptLength: number;
  readonly completionLength: number;
  /** (completionLength) `log_softmax(raw fp32 logits)[tok]` of the decode step that picked each token. */
  readonly logprobs: Float32Array;
  /** (L) the GRAIL sketch of every position 0 … L−1 from one proof forward over `tokens` (§3 commitments). */
  readonly commitments: Int32Array;
  /** The uniform u of each completion token (kept for diagnostics: the validator recomputes them). */
  readonly uniforms: Float64Array;
  /** Stopped at maxNewTokens without an EOS. */
  readonly truncated: boolean;
}

/** Generates M forced-seed rollouts of one prompt (see the file header). */
export async function generateRollouts(model: Qwen3Model, opts: GenerateOptions): Promise<Rollout[]> {
  const { cfg } = model;
  const { sampling, forcedSeed, grail } = opts.profile;
  const M = opts.rollouts ?? sampling.rollouts;
  const first = opts.firstRollout ?? 0;
  const P = opts.prompt.length;
  const maxNew = opts.maxNewTokens;
  const V = cfg.V;
  if (!Number.isInteger(M) || M < 1) throw new RangeError(`generateRollouts: rollouts must be a positive integer, got ${M}`);
  if (P < 1) throw new RangeError('generateRollouts: empty prompt');
  if (!Number.isInteger(maxNew) || maxNew < 1) throw new RangeError(`generateRollouts: maxNewTokens must be ≥ 1, got ${maxNew}`);
  const prompt = checkTokenIds(opts.prompt, V, 'generateRollouts: prompt');
  const eos = new Set(opts.eosTokenIds);

  const completions = Array.from({ length: M }, () => [] as number[]);
  const logprobs = Array.from({ length: M }, () => [] as number[]);
  const uniforms = Array.from({ length: M }, () => [] as number[]);
  const done = new Uint8Array(M);
  let active = M;
  let generated = 0;
  let steps = 0;

  const cache = model.createCache(M, P + maxNew);
  try {
    if (P > 1) {
      const pre = new Int32Array(M * (P - 1));
      for (let m = 0; m < M; m++) pre.set(prompt.subarray(0, P - 1), m * (P - 1));
      model.be.dispose(model.hiddenForward(pre, M, P - 1, cache));
    }
    const feed = new Int32Array(M).fill(prompt[P - 1]!);
    for (let t = 0; t < maxNew && active > 0; t++) {
      const hidden = model.hiddenForward(feed, M, 1, cache);
      let logits: Float32Array;
      try {
        logits = await model.logitsOf(hidden, M);
      } finally {
        model.be.dispose(hidden);
      }
      for (let m = 0; m < M; m++) {
        if (done[m]) continue;
        const z = logits.subarray(m * V, (m + 1) * V);
        const u = uAt(opts.stream.randomness, opts.stream.promptIdx, opts.stream.checkpointHash, first + m, t, forcedSeed, opts.stream.hotkey ?? '');
        const tok = pick(warp(z, sampling.temperature, sampling.topK, sampling.topP), u);
        completions[m]!.push(tok);
        logprobs[m]!.push(logSoftmaxAt(z, tok));
        uniforms[m]!.push(u);
        feed[m] = tok;
        generated++;
        if (eos.has(tok)) {
          done[m] = 1;
          active--;
        }
      }
      steps = t + 1;
      opts.onProgress?.({ step: steps, maxNewTokens: maxNew, generated, active, phase: 'decode' });
    }
  } finally {
    model.disposeCache(cache);
  }

  const out: Rollout[] = [];
  for (let m = 0; m < M; m++) {
    const tokens = new Int32Array(P + completions[m]!.length);
    tokens.set(prompt);
    tokens.set(completions[m]!, P);
    const commitments = await sketchesOf(model, tokens, opts.stream.randomness, opts.profile);
    out.push({
      rolloutIndex: first + m,
      tokens,
      promptLength: P,
      completionLength: completions[m]!.length,
      logprobs: Float32Array.from(logprobs[m]!),
      commitments,
      uniforms: Float64Array.from(uniforms[m]!),
      truncated: !done[m],
    });
    opts.onProgress?.({ step: steps, maxNewTokens: maxNew, generated, active: 0, phase: m === M - 1 ? 'done' : 'commit' });
  }
  return out;
}

/**
 * The Qwen3 forward over any ComputeBackend (spec/training.md §2, §2.1), written once for every backend.
 *
 * Legend (as core/compute/backend.ts): B = batch, T = positions in this call, C = hidden, F = MLP, NH / NKV = query /
 * KV heads, HD = head_dim, V = vocabulary, S = KV-cache capacity, past = positions already in the cache.
 *
 * One decoder layer, x (B,T,C) the residual stream:
 *   a  = rmsnorm(x, input_layernorm)
 *   q  = rope(qnorm(a·Wqᵀ  as (B,T,NH,HD)))     k = rope(knorm(a·Wkᵀ as (B,T,NKV,HD)))     v = a·Wvᵀ
 *        (QK-norm over head_dim with one shared weight, before RoPE; RoPE at absolute positions past … past+T−1)
 *   x += attention(q, k, v)·Woᵀ                 (causal GQA: query head h reads KV head ⌊h/(NH/NKV)⌋)
 *   x += (silu(m·Wgᵀ) ⊙ m·Wuᵀ)·Wdᵀ,   m = rmsnorm(x, post_attention_layernorm)
 * then hidden = rmsnorm(x, model.norm): `last_hidden_state`, the input of the LM head and of the GRAIL sketch.
 *
 * Prefill without a cache attends over this call's own keys; with a cache (generation) the keys and values of every
 * layer are written at `cache.length` first and attention reads the cache, and the cache advances by T. All B
 * sequences of a cache share one length (no ragged batches yet).
 *
 * @example
 *   const model = new Qwen3Model(be, cfg, uploadQwen3Weights(be, cfg, tensors));
 *   const { hidden, logprobs, sketches } = await model.forward(tokens, 1, T, { targets, sketch: { r, grail } });
 *   const cache = model.createCache(1, 64);
 *   await model.forward(prompt, 1, P, { cache });
 *   const { probs } = await model.decodeStep(cache, new Int32Array([tok]));
 */
import type { ComputeBackend, Tensor, Weight } from '../compute/backend.ts';
import type { GrailProfile } from '../protocol/sketch.ts';
import type { Qwen3Config } from './config.ts';
import type { Qwen3Layer, Qwen3Weights } from './weights.ts';

/** Per-layer key and value caches, each (B,S,NKV,HD), and the positions filled so far. */
export interface KvCache {
  readonly B: number;
  readonly S: number;
  readonly k: readonly Tensor<'f32'>[];
  readonly v: readonly Tensor<'f32'>[];
  /** Positions already in the cache (the `past` of the next call). */
  length: number;
}

export interface ForwardOptions {
  /** (B,T) next-token ids: logprobs[b,t] = log p(targets[b,t] | tokens[b, ≤t]). */
  readonly targets?: Int32Array;
  /** Compute the GRAIL sketch of every position with these coefficients (`rVec`) and constants. */
  readonly sketch?: { readonly r: ArrayLike<number>; readonly grail: GrailProfile };
  /** Write keys/values into this cache at `cache.length` (and advance it) instead of a cache-less prefill. */
  readonly cache?: KvCache;
  /** Return the hidden states to the host (default true). */
  readonly returnHidden?: boolean;
}

export interface ForwardResult {
  /** (B,T,C) hidden states after the final norm; empty when `returnHidden` is false. */
  readonly hidden: Float32Array;
  /** (B,T) log-probs of `targets`, when given. */
  readonly logprobs?: Float32Array;
  /** (B,T) GRAIL sketches, when asked. */
  readonly sketches?: Int32Array;
}

export class Qwen3Model {
  constructor(readonly be: ComputeBackend, readonly cfg: Qwen3Config, readonly weights: Qwen3Weights) {
    if (weights.layers.length !== cfg.L) throw new Error(`Qwen3Model: ${weights.layers.length} layers of weights for L = ${cfg.L}`);
  }

  /** An empty KV cache for B sequences of up to S positions. */
  createCache(B: number, S: number): KvCache {
    const { L, NKV, HD } = this.cfg;
    const make = (): Tensor<'f32'>[] => Array.from({ length: L }, () => this.be.empty([B, S, NKV, HD]));
    return { B, S, k: make(), v: make(), length: 0 };
  }

  disposeCache(cache: KvCache): void {
    for (const t of [...cache.k, ...cache.v]) this.be.dispose(t);
  }

  /**
   * The hidden states (B,T,C) after the final norm, as a backend tensor the caller disposes. Tokens are (B,T).
   * With `cache`, positions start at cache.length and the cache advances by T.
   */
  hiddenForward(tokens: Int32Array, B: number, T: number, cache?: KvCache): Tensor<'f32'> {
    const { be, cfg } = this;
    const { C } = cfg;
    if (cache) {
      if (cache.B !== B) throw new Error(`Qwen3Model: the cache holds B = ${cache.B} sequences, this call has B = ${B}`);
      if (cache.length + T > cache.S) {
        throw new Error(`Qwen3Model: ${cache.length} cached + ${T} new positions exceed the cache capacity S = ${cache.S}`);
      }
    }
    const x = be.empty([B, T, C]);
    be.embeddingForward(x, tokens, this.weights.embed, B, T, C);
    let cur = x;
    for (let l = 0; l < cfg.L; l++) {
      const next = this.layerForward(l, cur, B, T, cache);
      be.dispose(cur);
      cur = next;
    }
    const hidden = be.empty([B, T, C]);
    be.rmsnormForward(hidden, cur, this.weights.norm, B, T, C, cfg.eps);
    be.dispose(cur);
    if (cache) cache.length += T;
    return hidden;
  }

  /** Linear layers over one input: one shared call where the backend has it, else one matmul each (same bits). */
  private linears(outs: Tensor<'f32'>[], inp: Tensor<'f32'>, ws: Weight[], B: number, T: number, C: number, OCs: number[]): void {
    const { be } = this;
    if (be.matmulForwardShared) be.matmulForwardShared(outs, inp, ws, B, T, C, OCs);
    else outs.forEach((o, i) => be.matmulForward(o, inp, ws[i]!, B, T, C, OCs[i]!));
  }

  /** One decoder layer: returns the new residual stream (B,T,C); `x` is left for the caller to dispose. */
  private layerForward(l: number, x: Tensor<'f32'>, B: number, T: number, cache?: KvCache): Tensor<'f32'> {
    const { be, cfg } = this;
    const { C, F, NH, NKV, HD, eps } = cfg;
    const w: Qwen3Layer = this.weights.layers[l]!;
    const past = cache?.length ?? 0;
    const tmp: Tensor[] = [];
    const t = (...shape: number[]): Tensor<'f32'> => {
      const z = be.empty(shape);
      tmp.push(z);
      return z;
    };

    // attention block
    const a = t(B, T, C);
    be.rmsnormForward(a, x, w.inputNorm, B, T, C, eps);
    const q0 = t(B, T, NH, HD), k0 = t(B, T, NKV, HD), v = t(B, T, NKV, HD);
    this.linears([q0, k0, v], a, [w.qProj, w.kProj, w.vProj], B, T, C, [NH * HD, NKV * HD, NKV * HD]);
    const q1 = t(B, T, NH, HD), k1 = t(B, T, NKV, HD);
    be.qkNormForward(q1, q0, w.qNorm, B, T, NH, HD, eps);
    be.qkNormForward(k1, k0, w.kNorm, B, T, NKV, HD, eps);
    const q = t(B, T, NH, HD), k = t(B, T, NKV, HD);
    be.ropeForward(q, q1, B, T, NH, HD, past, cfg.ropeTheta);
    be.ropeForward(k, k1, B, T, NKV, HD, past, cfg.ropeTheta);
    const att = t(B, T, NH, HD);
    if (cache) {
      be.kvCacheWrite(cache.k[l]!, k, B, T, NKV, HD, past, cache.S);
      be.kvCacheWrite(cache.v[l]!, v, B, T, NKV, HD, past, cache.S);
      be.attentionForward(att, q, cache.k[l]!, cache.v[l]!, B, T, NH, NKV, HD, past, cache.S);
    } else {
      be.attentionForward(att, q, k, v, B, T, NH, NKV, HD, 0, T);
    }
    const o = t(B, T, C);
    be.matmulForward(o, att, w.oProj, B, T, NH * HD, C);
    const x2 = be.empty([B, T, C]);
    be.residualForward(x2, x, o, B * T * C);

    // MLP block
    const m = t(B, T, C);
    be.rmsnormForward(m, x2, w.postNorm, B, T, C, eps);
    const g = t(B, T, F), u = t(B, T, F), h = t(B, T, F);
    this.linears([g, u], m, [w.gateProj, w.upProj], B, T, C, [F, F]);
    be.swigluForward(h, g, u, B * T * F);
    const d = t(B, T, C);
    be.matmulForward(d, h, w.downProj, B, T, F, C);
    const x3 = be.empty([B, T, C]);
    be.residualForward(x3, x2, d, B * T * C);
    be.dispose(x2);
    for (const z of tmp) be.dispose(z);
    return x3;
  }

  /** Prefill (or a cached chunk): hidden states, and on request the log-probs of `targets` and the GRAIL sketches. */
  async forward(tokens: Int32Array, B: number, T: number, opts: ForwardOptions = {}): Promise<ForwardResult> {
    const { be, cfg } = this;
    const hidden = this.hiddenForward(tokens, B, T, opts.cache);
    try {
      let logprobs: Float32Array | undefined;
      if (opts.targets) {
        const lp = be.empty([B, T]);
        be.lmHeadLogprobsForward(lp, hidden, this.weights.lmHead, opts.targets, B, T, cfg.C, cfg.V);
        logprobs = await be.download(lp);
        be.dispose(lp);
      }
      const sketches = opts.sketch ? await be.sketchForward(hidden, opts.sketch.r, B, T, cfg.C, opts.sketch.grail) : undefined;
      const h = opts.returnHidden === false ? new Float32Array(0) : await be.download(hidden);
      return { hidden: h, ...(logprobs && { logprobs }), ...(sketches && { sketches }) };
    } finally {
      be.dispose(hidden);
    }
  }

  /** Full-row next-token probabilities (R,V) of R hidden rows (R,C) already on the backend. */
  async probsOf(hidden: Tensor<'f32'>, R: number): Promise<Float32Array> {
    const { be, cfg } = this;
    const p = be.empty([R, cfg.V]);
    be.lmHeadProbsForward(p, hidden, this.weights.lmHead, R, cfg.C, cfg.V);
    const out = await be.download(p);
    be.dispose(p);
    return out;
  }

  /**
   * Raw fp32 logits (R,V) = hidden · lm_headᵀ of R hidden rows (R,C) already on the backend, through `matmulForward`
   * (the op every backend checks against ref). For the host-side `warp` / log-softmax of the forced-seed sampler and
   * the proof forward (core/model/generate.ts, proof.ts); R is the caller's chunk, never a whole long sequence.
   */
  async logitsOf(hidden: Tensor<'f32'>, R: number): Promise<Float32Array> {
    const { be, cfg } = this;
    const z = be.empty([R, cfg.V]);
    be.matmulForward(z, hidden, this.weights.lmHead, 1, R, cfg.C, cfg.V);
    const out = await be.download(z);
    be.dispose(z);
    return out;
  }

  /**
   * One generation step: `tokens` (B), one per sequence, at position cache.length. Returns the hidden states (B,C)
   * and the next-token probabilities (B,V) for the sampler (`pick`), and advances the cache by one.
   */
  async decodeStep(cache: KvCache, tokens: Int32Array): Promise<{ hidden: Float32Array; probs: Float32Array }> {
    const B = cache.B;
    if (tokens.length !== B) throw new Error(`Qwen3Model.decodeStep: ${tokens.length} tokens for a cache of B = ${B} sequences`);
    const hidden = this.hiddenForward(tokens, B, 1, cache);
    try {
      const probs = await this.probsOf(hidden, B);
      return { hidden: await this.be.download(hidden), probs };
    } finally {
      this.be.dispose(hidden);
    }
  }
}

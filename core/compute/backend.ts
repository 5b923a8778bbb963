/**
 * The compute backend: tensors that live on some device, and the forward ops of the Qwen3 model over them.
 *
 * Three implementations sit under `kernels/`: `ref` (plain TypeScript, the truth), `wasm` (AssemblyScript SIMD)
 * and `webgpu` (WGSL). Every backend is checked against `ref` op by op (test/kernels). This file is runtime-agnostic:
 * it imports nothing from Node, Deno or the DOM.
 *
 * Legend (llm.c style; every op states its buffers' shapes with these letters):
 *   B   = batch                         T   = new positions per sequence in this call
 *   C   = channels (hidden size)        OC  = output channels of a matmul
 *   F   = MLP intermediate size         V   = vocabulary size
 *   NH  = query heads                   NKV = key/value heads (NH % NKV == 0)
 *   HD  = head_dim (explicit in the config, need not be C / NH)
 *   S   = KV-cache capacity in positions  past = positions already in the cache before this call
 *   N   = element count of an elementwise op   R = rows of the sampler's full-row probabilities
 *   K   = GRAIL top-k (16)
 *
 * Conventions
 * - Activations are f32 and row-major; an op checks their *element count* against the dims it is given (a (B,T,C)
 *   buffer may have been allocated as [B*T, C] or [B, T, C]). Weights are checked by their exact shape.
 * - Weights of `matmulForward` and `embeddingForward` may be f32 or bf16 (raw bf16 bits in a Uint16Array), widened to
 *   f32 on the fly; all other operands are f32.
 * - `out` never aliases an input (checked): the WebGPU binding rules forbid it and it keeps every op trivially correct.
 * - Ops are *enqueued*: on the CPU backends they run at once, on WebGPU they are recorded and submitted at the next
 *   `download` / `sync`. Results are visible to any later op or download on the same backend.
 * - Bad input (a shape that does not match the dims, a wrong dtype, a disposed or foreign tensor) throws an Error
 *   naming the op and the shapes, before any work is done (see `core/compute/validate.ts`).
 */

import type { GrailProfile } from '../protocol/sketch.ts';

/** Element type of a tensor: `f32`, or `bf16` stored as its raw 16 bits (upload/download a Uint16Array). */
export type DType = 'f32' | 'bf16';

/** The host array type that holds a tensor of dtype D. */
export type HostArray<D extends DType> = D extends 'f32' ? Float32Array : Uint16Array;

/** A handle to a tensor owned by one backend. Its data is reachable only through that backend. */
export interface Tensor<D extends DType = DType> {
  readonly shape: readonly number[];
  readonly dtype: D;
  /** Element count (product of `shape`). */
  readonly size: number;
  /** `name` of the owning backend. */
  readonly backend: string;
  /** True after `dispose`; any later use throws. */
  readonly disposed: boolean;
}

/** A weight operand: f32, or bf16 widened to f32 inside the kernel. */
export type Weight = Tensor<'f32'> | Tensor<'bf16'>;

export interface ComputeBackend {
  /** Short name: `ref`, `wasm`, `webgpu`. */
  readonly name: string;

  // ---- tensors --------------------------------------------------------------------------------------------------
  /** A new zero-filled tensor. */
  empty<D extends DType = 'f32'>(shape: readonly number[], dtype?: D): Tensor<D>;
  /** A new tensor holding a copy of `data` (Float32Array → f32, Uint16Array → bf16 bits). */
  upload(data: Float32Array, shape: readonly number[]): Tensor<'f32'>;
  upload(data: Uint16Array, shape: readonly number[]): Tensor<'bf16'>;
  /** Copies a tensor back to the host, after all enqueued ops have run. */
  download<D extends DType>(t: Tensor<D>): Promise<HostArray<D>>;
  /** Frees a tensor's memory; the handle becomes unusable. Disposing twice is a no-op. */
  dispose(t: Tensor): void;
  /** Resolves when every enqueued op has finished (for timing). */
  sync(): Promise<void>;
  /** Frees everything the backend holds; the backend becomes unusable. */
  destroy(): void;

  // ---- forward ops ----------------------------------------------------------------------------------------------
  /**
   * Token embedding gather: out[b,t,:] = wte[tokens[b*T+t], :].
   * out is (B,T,C) f32; tokens is (B,T) host ints in [0, V); wte is (V,C) f32 or bf16.
   */
  embeddingForward(out: Tensor<'f32'>, tokens: Int32Array, wte: Weight, B: number, T: number, C: number): void;

  /**
   * RMSNorm over the last dim: out = inp / sqrt(mean(inp²) + eps) * weight (Qwen3/Llama: `weight`, not `1 + weight`;
   * eps inside the square root; the mean of squares accumulated in at least fp32).
   * out, inp are (B,T,C); weight is (C).
   */
  rmsnormForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Tensor<'f32'>, B: number, T: number, C: number, eps: number): void;

  /**
   * Linear layer without bias: out = inp · Wᵀ, i.e. out[r,o] = Σ_c inp[r,c]·weight[o,c].
   * out is (B,T,OC); inp is (B,T,C); weight is (OC,C) — stored [out, in] as in PyTorch — f32 or bf16.
   */
  matmulForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Weight, B: number, T: number, C: number, OC: number): void;

  /**
   * Optional: several linear layers over one input, `outs[i] = inp · weights[i]ᵀ` of shape (B,T,OCs[i]), each bit for
   * bit what `matmulForward` gives. A backend that splits ops over threads runs them as one split (the attention's
   * q/k/v and the MLP's gate/up: one wake-up, and the narrow k/v projections share the threads with q). Callers fall
   * back to one `matmulForward` per weight when a backend lacks it.
   */
  matmulForwardShared?(outs: readonly Tensor<'f32'>[], inp: Tensor<'f32'>, weights: readonly Weight[], B: number, T: number, C: number, OCs: readonly number[]): void;

  /**
   * Rotary position embedding, `rotate_half` form: within each head, dim d pairs with d + HD/2 (not interleaved):
   *   out[d]      = x[d]·cos(p·f_d) − x[d+HD/2]·sin(p·f_d)
   *   out[d+HD/2] = x[d+HD/2]·cos(p·f_d) + x[d]·sin(p·f_d),   f_d = θ^(−2d/HD), d < HD/2,
   * at absolute position p = past + t (the same positions for q and k when decoding against a KV cache).
   * cos/sin come from `ropeTable` (core/compute/rope.ts), the float32 table Hugging Face builds.
   * out, inp are (B,T,NH,HD) with NH the head count of this tensor (query or KV heads); HD is even.
   */
  ropeForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, B: number, T: number, NH: number, HD: number, past: number, theta: number): void;

  /**
   * Per-head QK-RMSNorm (Qwen3 `q_norm` / `k_norm`): RMSNorm over head_dim of every head, one weight shared by all
   * heads; applied to q and k before RoPE, never to v.
   * out, inp are (B,T,NH,HD); weight is (HD).
   */
  qkNormForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Tensor<'f32'>, B: number, T: number, NH: number, HD: number, eps: number): void;

  /**
   * Writes T new key (or value) rows into a KV cache at positions past … past+T−1.
   * cache is (B,S,NKV,HD) with S ≥ past+T; kv is (B,T,NKV,HD).
   */
  kvCacheWrite(cache: Tensor<'f32'>, kv: Tensor<'f32'>, B: number, T: number, NKV: number, HD: number, past: number, S: number): void;

  /**
   * Causal grouped-query attention, softmax(q·kᵀ·HD^−½)·v, for T new queries at positions past … past+T−1 over keys
   * 0 … past+t. Query head h reads KV head ⌊h / (NH/NKV)⌋ (not h % NKV).
   * Prefill without a cache: k, v hold just this call's rows (past = 0, S = T). Decode: k, v are the caches.
   * out, q are (B,T,NH,HD); k, v are (B,S,NKV,HD) with S ≥ past+T.
   */
  attentionForward(
    out: Tensor<'f32'>, q: Tensor<'f32'>, k: Tensor<'f32'>, v: Tensor<'f32'>,
    B: number, T: number, NH: number, NKV: number, HD: number, past: number, S: number,
  ): void;

  /** SwiGLU gate: out = silu(gate)·up, silu(x) = x/(1+e^−x). out, gate, up are (N) (N = B·T·F). */
  swigluForward(out: Tensor<'f32'>, gate: Tensor<'f32'>, up: Tensor<'f32'>, N: number): void;

  /** Residual add: out = inp1 + inp2. All (N). */
  residualForward(out: Tensor<'f32'>, inp1: Tensor<'f32'>, inp2: Tensor<'f32'>, N: number): void;

  /**
   * LM head + log-softmax + gather, chunked over the vocabulary so no (B·T)×V logits matrix is ever held:
   *   out[b,t] = logits[b,t,targets[b,t]] − logsumexp_v(logits[b,t,v]),   logits = inp · wteᵀ.
   * out is (B,T); inp is (B,T,C) (the final-norm hidden states); wte is (V,C) f32 or bf16 (the tied embedding or
   * lm_head.weight); targets is (B,T) host ints in [0, V).
   */
  lmHeadLogprobsForward(
    out: Tensor<'f32'>, inp: Tensor<'f32'>, wte: Weight, targets: Int32Array, B: number, T: number, C: number, V: number,
  ): void;

  /**
   * Full-row next-token probabilities for the sampler: out[r,:] = softmax(inp[r,:] · wteᵀ), in f32 (max-subtracted,
   * divided by the row sum). Only R×V values are ever held, and R is the caller's choice (one row per sequence per
   * decode step; the validator walks teacher-forced rows a few at a time), never a T×V matrix of a whole sequence.
   * Under v4 (T = 1, top-k 0, top-p 1) the protocol's `warp` is this softmax; `warp` itself rounds each step to
   * fp32 on the host, so the two agree to a few ulps (test/kernels/ref.test.ts), not bit for bit.
   * out is (R,V); inp is (R,C); wte is (V,C) f32 or bf16.
   */
  lmHeadProbsForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, wte: Weight, R: number, C: number, V: number): void;

  /**
   * GRAIL sketches (spec/protocol.md §3) of every position, returned to the host (they go on the wire):
   *   idx = top-K dims of |hidden[b,t,:]| (ties: lower index first; NaN ranks highest), sorted ascending;
   *   out[b,t] = (Σ_j bucket(hidden[b,t,idx_j])·r_j) mod Q, non-negative,
   * with the float64 `bucket` of core/protocol/sketch.ts computed exactly in integer arithmetic (core/compute/sketch.ts).
   * Must equal `sketchFromHidden` bit for bit on every input. Flushes the queue (like `download`).
   * hidden is (B,T,C) f32 with C ≥ K; r is (K) integers (`rVec`); grail gives K, the buckets, the scale and Q.
   */
  sketchForward(hidden: Tensor<'f32'>, r: ArrayLike<number>, B: number, T: number, C: number, grail: GrailProfile): Promise<Int32Array>;
}

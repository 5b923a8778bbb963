/**
 * Dispatch of the chunked LM head (lmhead.wgsl.ts): per vocabulary chunk, the matmul shader writes a (B·T)×VC logits
 * chunk and lseUpdate folds it into the running (max, sum, target logit) of each row; lseFinish writes the log-probs.
 */
import type { DType } from '../../core/compute/backend.ts';
import { grid, type GpuContext } from './context.ts';
import { lseFinishWgsl, lseUpdateWgsl, softmaxRowsWgsl } from './lmhead.wgsl.ts';
import { matmul } from './matmul.ts';

/** Logits held at once: a (B·T) × VC chunk of at most this many floats (16 MiB). */
const CHUNK_FLOATS = 1 << 22;

export function lmHeadLogprobs(
  ctx: GpuContext, out: GPUBuffer, inp: GPUBuffer, wte: GPUBuffer, wteType: DType, targets: Int32Array,
  N: number, C: number, V: number,
): void {
  const VC = Math.min(V, Math.max(4, Math.floor(CHUNK_FLOATS / N / 4) * 4));
  const logits = ctx.scratch('lm head logits chunk', N * VC * 4); // fully written by each chunk's matmul
  const tg = ctx.createBuffer(N * 4, 'lm head targets', new Uint32Array(targets.buffer, targets.byteOffset, targets.length));
  const init = new Float32Array(N * 3);
  for (let r = 0; r < N; r++) init[r * 3] = -3.0e38;
  const state = ctx.createBuffer(init.byteLength, 'lm head state', init);
  for (let v0 = 0; v0 < V; v0 += VC) {
    const vc = Math.min(VC, V - v0);
    matmul(ctx, logits, inp, wte, wteType, N, C, vc, v0);
    ctx.run({ key: 'lseUpdate', code: lseUpdateWgsl }, [state, logits, tg], [N, vc, v0], grid(N));
  }
  ctx.run({ key: 'lseFinish', code: lseFinishWgsl }, [out, state], [N], [Math.ceil(N / 64)]);
  for (const b of [tg, state]) ctx.release(b);
}

/** out (R,V) = softmax(inp (R,C) · wteᵀ): the logits straight into out, then a row softmax in place. */
export function lmHeadProbs(ctx: GpuContext, out: GPUBuffer, inp: GPUBuffer, wte: GPUBuffer, wteType: DType, R: number, C: number, V: number): void {
  matmul(ctx, out, inp, wte, wteType, R, C, V);
  ctx.run({ key: 'softmaxRows', code: softmaxRowsWgsl }, [out], [R, V], grid(R));
}

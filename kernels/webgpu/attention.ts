/** Dispatch of attention (attention.wgsl.ts): one workgroup per query row (b, t, h). */
import { grid, type GpuContext } from './context.ts';
import { ATTENTION_DPT, ATTENTION_WG, AttentionParams, attentionWgsl } from './attention.wgsl.ts';

/** Largest head_dim the shader handles. */
export const ATTENTION_MAX_HD = ATTENTION_WG * ATTENTION_DPT;

export function attention(
  ctx: GpuContext, out: GPUBuffer, q: GPUBuffer, k: GPUBuffer, v: GPUBuffer,
  B: number, T: number, NH: number, NKV: number, HD: number, past: number, S: number,
): void {
  if (HD > ATTENTION_MAX_HD) {
    throw new Error(`attentionForward: HD=${HD} exceeds the webgpu kernel's maximum of ${ATTENTION_MAX_HD}`);
  }
  const rows = B * T * NH;
  ctx.run({ key: 'attention', code: attentionWgsl }, [out, q, k, v],
    AttentionParams.pack({ rows, T, NH, NKV, HD, past, S, scale: 1 / Math.sqrt(HD) }), grid(rows));
}

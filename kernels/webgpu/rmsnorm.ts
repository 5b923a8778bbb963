/** Dispatch of RMSNorm (rmsnorm.wgsl.ts): rmsnormForward over (B·T, C) rows, qkNormForward over (B·T·NH, HD) rows. */
import { grid, type GpuContext } from './context.ts';
import { RMSNORM_WG, RmsnormParams, rmsnormWgsl } from './rmsnorm.wgsl.ts';

export function rmsnorm(ctx: GpuContext, out: GPUBuffer, inp: GPUBuffer, weight: GPUBuffer, rows: number, C: number, eps: number): void {
  const vec4 = C % 4 === 0;
  ctx.run({ key: `rmsnorm:${vec4 ? 'vec4' : 'scalar'}`, code: () => rmsnormWgsl(vec4) }, [out, inp, weight],
    RmsnormParams.pack({ rows, C, eps }), grid(Math.ceil(rows / RMSNORM_WG)));
}

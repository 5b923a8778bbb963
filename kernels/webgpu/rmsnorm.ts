/**
 * Dispatch of RMSNorm (rmsnorm.wgsl.ts): rmsnormForward over (B·T, C) rows, qkNormForward over (B·T·NH, HD) rows.
 * One invocation per row on CPU adapters and for short rows, one workgroup per row otherwise.
 */
import { grid, type GpuContext } from './context.ts';
import { RMSNORM_ROW_MAX_C, RMSNORM_WG, RmsnormParams, rmsnormWgsl, type RmsnormLayout } from './rmsnorm.wgsl.ts';

export function rmsnorm(ctx: GpuContext, out: GPUBuffer, inp: GPUBuffer, weight: GPUBuffer, rows: number, C: number, eps: number): void {
  const vec4 = C % 4 === 0;
  const layout: RmsnormLayout = ctx.cpu || C <= RMSNORM_ROW_MAX_C ? 'row' : 'group';
  ctx.run({ key: `rmsnorm:${layout}:${vec4 ? 'vec4' : 'scalar'}`, code: () => rmsnormWgsl(layout, vec4) }, [out, inp, weight],
    RmsnormParams.pack({ rows, C, eps }), grid(layout === 'row' ? Math.ceil(rows / RMSNORM_WG) : rows));
}

/**
 * RMSNorm over rows (also the per-head QK-norm, rows of HD). Legend: R = rows (B·T, or B·T·NH), C = row length.
 * out, inp are (R,C); weight is (C). out = inp / sqrt(mean(inp²) + eps) * weight, mean of squares in f32.
 * Rows are read four floats at a time when C % 4 == 0 (scalar otherwise). Two layouts:
 *   row    one invocation per row, no workgroup memory and no barrier. On CPU adapters such as lavapipe a workgroup
 *          costs µs to start and a barrier about as much again: the group layout's tree was 4.6× slower there at
 *          C = 2560 and 15× on HD = 128 QK-norm rows. Also used for short rows (C ≤ RMSNORM_ROW_MAX_C) on GPUs.
 *   group  one workgroup of 64 per row (GPUs, long rows): invocations over neighbouring vec4s, strided partial sums,
 *          one barrier, then every invocation adds the 64 partials itself (the same loads in every lane).
 */
import { uniforms } from './uniforms.ts';
import { FLAT_GROUP } from './wgsl.ts';

export const RMSNORM_WG = 64;
/** Longest row the GPU path still gives one invocation. */
export const RMSNORM_ROW_MAX_C = 256;

export type RmsnormLayout = 'row' | 'group';

/** The kernel's uniforms: the WGSL struct and the host's packing from this one description. */
export const RmsnormParams = uniforms('Params', { rows: 'u32', C: 'u32', eps: 'f32' });

/** Dispatch: ⌈R/64⌉ workgroups for `row`, R for `group` (grid()). `vec4` needs C % 4 == 0. */
export function rmsnormWgsl(layout: RmsnormLayout, vec4: boolean): string {
  const T = vec4 ? 'vec4f' : 'f32';
  const W = RMSNORM_WG;
  const sq = vec4 ? 'dot(v, v)' : 'v * v';
  const body = layout === 'row'
    ? `let row = flat_group(wid, nwg) * ${W}u + lid;
  if (row >= p.rows) { return; }
  let x = row * n;
  var ss = 0.0;
  for (var c = 0u; c < n; c++) {
    let v = inp[x + c];
    ss += ${sq};
  }
  let rstd = 1.0 / sqrt(ss / f32(p.C) + p.eps);
  for (var c = 0u; c < n; c++) { out[x + c] = inp[x + c] * rstd * weight[c]; }`
    : `let row = flat_group(wid, nwg);
  if (row >= p.rows) { return; }
  let x = row * n;
  var ss = 0.0;
  for (var c = lid; c < n; c += ${W}u) {
    let v = inp[x + c];
    ss += ${sq};
  }
  partial[lid] = ss;
  workgroupBarrier();
  var total = 0.0;
  for (var j = 0u; j < ${W}u; j++) { total += partial[j]; }
  let rstd = 1.0 / sqrt(total / f32(p.C) + p.eps);
  for (var c = lid; c < n; c += ${W}u) { out[x + c] = inp[x + c] * rstd * weight[c]; }`;
  return `
@group(0) @binding(0) var<storage, read_write> out: array<${T}>;
@group(0) @binding(1) var<storage, read> inp: array<${T}>;
@group(0) @binding(2) var<storage, read> weight: array<${T}>;
${RmsnormParams.wgsl}
@group(0) @binding(3) var<uniform> p: Params;
${layout === 'group' ? `var<workgroup> partial: array<f32, ${W}>;` : ''}
${FLAT_GROUP}

@compute @workgroup_size(${W})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = p.C / ${vec4 ? 4 : 1}u;      // ${T}s per row
  ${body}
}
`;
}

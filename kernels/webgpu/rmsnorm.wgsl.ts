/**
 * RMSNorm over rows (also the per-head QK-norm, rows of HD). Legend: R = rows (B·T, or B·T·NH), C = row length.
 * out, inp are (R,C); weight is (C). out = inp / sqrt(mean(inp²) + eps) * weight, mean of squares in f32.
 *
 * One invocation per row, four floats at a time when C % 4 == 0: no workgroup memory and no barrier. On CPU adapters
 * such as lavapipe a workgroup costs several µs to start and a barrier about as much again, which made the former
 * one-workgroup-per-row tree reduction 15× slower on QK-norm rows (HD = 128) and 1.6× slower on C = 2560 rows.
 */
import { uniforms } from './uniforms.ts';
import { FLAT_GROUP } from './wgsl.ts';

export const RMSNORM_WG = 64;

/** The kernel's uniforms: the WGSL struct and the host's packing from this one description. */
export const RmsnormParams = uniforms('Params', { rows: 'u32', C: 'u32', eps: 'f32' });

/** `vec4`: the row read four floats at a time (needs C % 4 == 0). Dispatch: ⌈R/64⌉ workgroups (grid()). */
export function rmsnormWgsl(vec4: boolean): string {
  const T = vec4 ? 'vec4f' : 'f32';
  return `
@group(0) @binding(0) var<storage, read_write> out: array<${T}>;
@group(0) @binding(1) var<storage, read> inp: array<${T}>;
@group(0) @binding(2) var<storage, read> weight: array<${T}>;
${RmsnormParams.wgsl}
@group(0) @binding(3) var<uniform> p: Params;
${FLAT_GROUP}

@compute @workgroup_size(${RMSNORM_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = flat_group(wid, nwg) * ${RMSNORM_WG}u + lid;
  if (row >= p.rows) { return; }
  let n = p.C / ${vec4 ? 4 : 1}u;      // ${T}s per row
  let x = row * n;
  var ss = 0.0;
  for (var c = 0u; c < n; c++) {
    let v = inp[x + c];
    ss += ${vec4 ? 'dot(v, v)' : 'v * v'};
  }
  let rstd = 1.0 / sqrt(ss / f32(p.C) + p.eps);
  for (var c = 0u; c < n; c++) {
    out[x + c] = inp[x + c] * rstd * weight[c];
  }
}
`;
}

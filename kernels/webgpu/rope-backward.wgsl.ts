/**
 * RoPE backward, rotate_half form. Legend: B = batch, T = positions, NH = heads of this tensor, HD = head_dim, H2 = HD/2.
 * Forward: `out[d] = x1·cos − x2·sin;  out[d+H2] = x2·cos + x1·sin`. The rotation is orthogonal, so the backward is
 * the transposed rotation:  dinp[d] += dout[d]·cos + dout[d+H2]·sin;  dinp[d+H2] += dout[d+H2]·cos − dout[d]·sin.
 * dinp, dout are (B,T,NH,HD); table is cos (T,H2) then sin (T,H2), the forward's. One invocation per pair (d, d+H2).
 */
import { uniforms } from './uniforms.ts';
import { FLAT_GROUP } from './wgsl.ts';

export const ROPE_BACKWARD_WG = 256;

/** The kernel's uniforms (n = pairs = B·T·NH·H2): the WGSL struct and the host's packing from this one description. */
export const RopeBackwardParams = uniforms('Params', { n: 'u32', T: 'u32', NH: 'u32', H2: 'u32' });

export function ropeBackwardWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
${RopeBackwardParams.wgsl}
@group(0) @binding(3) var<uniform> p: Params;
${FLAT_GROUP}

@compute @workgroup_size(${ROPE_BACKWARD_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * ${ROPE_BACKWARD_WG}u + lid;
  if (i >= p.n) { return; }
  let d = i % p.H2;
  let row = i / p.H2;              // (b, t, h)
  let t = (row / p.NH) % p.T;
  let x = row * 2u * p.H2;
  let c = table[t * p.H2 + d];
  let s = table[(p.T + t) * p.H2 + d];
  let d1 = dout[x + d];
  let d2 = dout[x + d + p.H2];
  dinp[x + d] += d1 * c + d2 * s;
  dinp[x + d + p.H2] += d2 * c - d1 * s;
}
`;
}

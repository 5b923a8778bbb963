/**
 * RoPE, rotate_half form. Legend: B = batch, T = positions, NH = heads of this tensor, HD = head_dim, H2 = HD/2,
 * R = B·T·NH rows (b, t, h). out, inp are (B,T,NH,HD); table is cos (T,H2) followed by sin (T,H2), built on the host
 * (core/compute/rope.ts) for positions past … past+T−1.
 *
 * One invocation per pair (d, d+H2) of ROPE_ROWS consecutive rows: neighbouring invocations take neighbouring d (loads
 * contiguous across lanes) and each walks its rows adding strides, so a call starts R·H2/(256·ROPE_ROWS) workgroups
 * (starting one costs µs on CPU adapters such as lavapipe) and no invocation divides per element.
 */
import { uniforms } from './uniforms.ts';
import { FLAT_GROUP } from './wgsl.ts';

export const ROPE_WG = 256;
/** Rows per invocation. */
export const ROPE_ROWS = 16;

/** The kernel's uniforms: the WGSL struct and the host's packing from this one description. */
export const RopeParams = uniforms('Params', { rows: 'u32', T: 'u32', NH: 'u32', H2: 'u32' });

export function ropeWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
${RopeParams.wgsl}
@group(0) @binding(3) var<uniform> p: Params;
${FLAT_GROUP}

@compute @workgroup_size(${ROPE_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * ${ROPE_WG}u + lid;
  let d = i % p.H2;
  let row0 = (i / p.H2) * ${ROPE_ROWS}u;
  let rowEnd = min(row0 + ${ROPE_ROWS}u, p.rows);
  if (row0 >= p.rows) { return; }
  var h = row0 % p.NH;
  var t = (row0 / p.NH) % p.T;
  var x = row0 * 2u * p.H2 + d;
  for (var row = row0; row < rowEnd; row++) {
    let c = table[t * p.H2 + d];
    let s = table[(p.T + t) * p.H2 + d];
    let x1 = inp[x];
    let x2 = inp[x + p.H2];
    out[x] = x1 * c - x2 * s;
    out[x + p.H2] = x2 * c + x1 * s;
    x += 2u * p.H2;
    h++;
    if (h == p.NH) {
      h = 0u;
      t++;
      if (t == p.T) { t = 0u; }
    }
  }
}
`;
}

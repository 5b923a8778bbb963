/**
 * Causal grouped-query attention. Legend: B = batch, T = new positions, NH = query heads, NKV = key/value heads,
 * HD = head_dim (≤ 256), S = key/value rows per sequence, past = rows before this call.
 * out, q are (B,T,NH,HD); k, v are (B,S,NKV,HD). Query t of head h attends to keys 0 … past+t of KV head
 * h / (NH/NKV), scores scaled by HD^−½.
 *
 * One workgroup of 64 per query row (b, t, h), flash-style over chunks of 64 keys: each invocation scores one key of
 * the chunk, all read the chunk's max, each exponentiates its own score, then each invocation accumulates the
 * output dims it owns (d = lid, lid+64, …) with the running max/sum rescaling of the online softmax.
 */
import { uniforms } from './uniforms.ts';
import { FLAT_GROUP } from './wgsl.ts';

export const ATTENTION_WG = 64;
/** Output dims per invocation; HD ≤ ATTENTION_WG · ATTENTION_DPT. */
export const ATTENTION_DPT = 4;

/** The kernel's uniforms: the WGSL struct and the host's packing from this one description. */
export const AttentionParams = uniforms('Params', {
  rows: 'u32', T: 'u32', NH: 'u32', NKV: 'u32', HD: 'u32', past: 'u32', S: 'u32', scale: 'f32',
});

export function attentionWgsl(): string {
  const W = ATTENTION_WG;
  return `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
${AttentionParams.wgsl}
@group(0) @binding(4) var<uniform> p: Params;
var<workgroup> score: array<f32, ${W}>;
var<workgroup> prob: array<f32, ${W}>;
${FLAT_GROUP}

@compute @workgroup_size(${W})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = flat_group(wid, nwg);      // (b, t, h)
  if (row >= p.rows) { return; }
  let h = row % p.NH;
  let bt = row / p.NH;
  let t = bt % p.T;
  let b = bt / p.T;
  let kvh = h / (p.NH / p.NKV);
  let L = p.past + t + 1u;
  let qo = row * p.HD;
  let kvRow = p.NKV * p.HD;
  let kvBase = b * p.S * kvRow + kvh * p.HD;
  let scale = p.scale;

  var m = -3.0e38;                     // running max
  var l = 0.0;                         // running sum of exp(score − m)
  var acc: array<f32, ${ATTENTION_DPT}>;
  for (var s0 = 0u; s0 < L; s0 += ${W}u) {
    let s = s0 + lid;
    var x = -3.0e38;
    if (s < L) {
      let ko = kvBase + s * kvRow;
      var d = 0.0;
      for (var i = 0u; i < p.HD; i++) { d += q[qo + i] * k[ko + i]; }
      x = d * scale;
    }
    score[lid] = x;
    workgroupBarrier();
    let n = min(${W}u, L - s0);
    var cm = m;
    for (var j = 0u; j < n; j++) { cm = max(cm, score[j]); }
    prob[lid] = exp(x - cm);           // 0 for the padding lanes
    workgroupBarrier();
    let corr = exp(m - cm);
    l *= corr;
    for (var j = 0u; j < n; j++) { l += prob[j]; }
    for (var c = 0u; c < ${ATTENTION_DPT}u; c++) {
      let dd = lid + c * ${W}u;
      if (dd < p.HD) {
        var a = acc[c] * corr;
        for (var j = 0u; j < n; j++) { a += prob[j] * v[kvBase + (s0 + j) * kvRow + dd]; }
        acc[c] = a;
      }
    }
    m = cm;
    workgroupBarrier();
  }
  for (var c = 0u; c < ${ATTENTION_DPT}u; c++) {
    let dd = lid + c * ${W}u;
    if (dd < p.HD) { out[qo + dd] = acc[c] / l; }
  }
}
`;
}

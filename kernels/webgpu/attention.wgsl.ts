/**
 * Causal grouped-query attention in three barrier-free passes shaped like the register-blocked matmul
 * (matmul.wgsl.ts). Legend: B = batch, T = new positions, NH = query heads, NKV = key/value heads, G = NH/NKV,
 * HD = head_dim, S = key/value rows per sequence, past = rows before this call, HD4 = ⌈HD/4⌉.
 * out, q are (B,T,NH,HD); k, v are (B,S,NKV,HD). Query t of head h attends to keys 0 … past+t of KV head h / G,
 * scores scaled by HD^−½.
 *
 * The G query heads sharing a KV head form one matrix of R = T·G query rows per head group hg = (b, kvh): row i is
 * position i / G of head kvh·G + i % G and sees keys s < lim(i) = past + i/G + 1, so a decode step (T = 1) still has
 * G rows to reuse each key and value row for. A call walks the rows in chunks (row0 … row0+rows−1, seeing L keys)
 * so that the chunk's probability matrix P, stored key-major as p[hg][s][i − row0] with Rp = rows rounded up to 4,
 * fits the scratch buffer; after P come the chunk's 1/Σ per row (HG·Rp floats).
 *   scores   P[s][i] = q_i · k_s · scale, one invocation per 4 keys × 4 rows, vec4 loads along HD, 16 dot products a
 *            step, the 4 rows of a key stored as one vec4; blocks wholly above the causal diagonal are skipped.
 *   softmax  one invocation per row (neighbouring invocations read neighbouring floats of P): max over s < lim(i),
 *            P = exp(P − max), 1/Σ saved; P = 0 for the few keys past lim(i) the P·V block still reads.
 *   pv       out[i][d] = (1/Σ_i)·Σ_s P[s][i]·v[s][d], one invocation per 4 rows × 4 dims: a step loads the 4 rows'
 *            P as one vec4 and one vec4 of v. With `splits` > 1 (decode against a long cache, where the
 *            invocations of one split would leave the device idle) each split sums its own range of keys into a
 *            partial buffer (split-K) and the combine pass adds the partials up.
 * CPU adapters such as lavapipe run invocations as SIMD lanes and pay heavily for workgroup barriers, so no pass
 * uses workgroup memory (a fused flash kernel, online softmax with three barriers per 64 keys, measured about 3× slower
 * there). lavapipe's LLVM pipeline does not hoist loop invariants either, so the inner loops only add strides.
 */
import { uniforms } from './uniforms.ts';

/** Invocations per workgroup of the scores, softmax and combine passes. */
export const ATTENTION_WG = 64;
/**
 * Row groups (of 4 rows) one workgroup of the scores and pv passes walks in turn: fewer, longer workgroups, since
 * starting one costs µs on lavapipe.
 */
export const ATTENTION_ROW_GROUPS = 16;


/** The uniforms shared by the passes: the WGSL struct and the host's packing from this one description. */
export const AttentionParams = uniforms('Params', {
  T: 'u32', NH: 'u32', NKV: 'u32', past: 'u32', S: 'u32', HG: 'u32',
  row0: 'u32', rows: 'u32', Rp: 'u32', L: 'u32', splits: 'u32', splitKeys: 'u32', scale: 'f32',
});

/** Shared declarations: constants, the index helpers and the q/k/v loaders (vec4 when HD % 4 == 0). */
function common(HD: number, G: number, buffers: { q?: number; k?: number; v?: number }): string {
  const vec = HD % 4 === 0;
  const loader = (name: string, binding: number): string => vec
    ? `@group(0) @binding(${binding}) var<storage, read> ${name}: array<vec4f>;
fn ${name}4(o: u32, d4: u32) -> vec4f { return ${name}[o + d4]; }`
    : `@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;
fn ${name}4(o: u32, d4: u32) -> vec4f {
  var r = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (d4 * 4u + j < HD) { r[j] = ${name}[o + d4 * 4u + j]; }
  }
  return r;
}`;
  return `
const HD = ${HD}u;
const HD4 = ${Math.ceil(HD / 4)}u;
/** Floats per unit of the q/k/v loaders' offsets (vec4 loads when HD % 4 == 0). */
const QU = ${vec ? 4 : 1}u;
const G = ${G}u;
${AttentionParams.wgsl}
/** First float of query row i of head group hg in q and out. */
fn q_off(hg: u32, i: u32) -> u32 {
  let b = hg / p.NKV;
  let kvh = hg % p.NKV;
  return ((b * p.T + i / G) * p.NH + kvh * G + i % G) * HD;
}
/** First float of key/value row s of head group hg in k and v. */
fn kv_off(hg: u32, s: u32) -> u32 {
  let b = hg / p.NKV;
  let kvh = hg % p.NKV;
  return ((b * p.S + s) * p.NKV + kvh) * HD;
}
/** Keys row i sees. */
fn lim(i: u32) -> u32 { return p.past + i / G + 1u; }
${buffers.q !== undefined ? loader('q', buffers.q) : ''}
${buffers.k !== undefined ? loader('k', buffers.k) : ''}
${buffers.v !== undefined ? loader('v', buffers.v) : ''}
`;
}

/**
 * scores: P[s][i] = q_i · k_s · scale for a block of 4 keys × 4 rows per invocation; a workgroup's invocations share
 * their rows (so q loads are the same for all lanes) and take consecutive key groups, and walk ATTENTION_ROW_GROUPS
 * row groups (dispatch [⌈L/256⌉, ⌈rows/16⌉, HG]).
 */
export function attentionScoresWgsl(HD: number, G: number): string {
  const J = [0, 1, 2, 3];
  const each = (f: (j: number) => string, sep = '\n    '): string => J.map(f).join(sep);
  return `${common(HD, G, { q: 1, k: 2 })}
@group(0) @binding(0) var<storage, read_write> P: array<vec4f>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(${ATTENTION_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let sFirst = gid.x * 4u;
  let hg = wid.z;
  if (sFirst >= p.L) { return; }
  ${each((j) => `let ko${j} = kv_off(hg, min(sFirst + ${j}u, p.L - 1u)) / QU;`, '\n  ')}
  for (var rg = wid.y * ${ATTENTION_ROW_GROUPS}u; rg < (wid.y + 1u) * ${ATTENTION_ROW_GROUPS}u; rg++) {
    let ii0 = rg * 4u;                 // first row of the block, within the chunk
    if (ii0 >= p.rows) { break; }
    let iFirst = p.row0 + ii0;
    let iLast = p.row0 + min(ii0 + 3u, p.rows - 1u);
    if (sFirst >= lim(iLast)) { continue; } // wholly above the diagonal: never read
    ${each((j) => `let qo${j} = q_off(hg, min(iFirst + ${j}u, iLast)) / QU;`)}
    ${each((j) => `var acc${j} = vec4f(0.0);`)}
    for (var d = 0u; d < HD4; d++) {
      ${each((j) => `let k${j} = k4(ko${j}, d);`, '\n      ')}
      ${each((j) => `let q${j} = q4(qo${j}, d);`, '\n      ')}
      ${each((j) => `acc${j} += vec4f(dot(q0, k${j}), dot(q1, k${j}), dot(q2, k${j}), dot(q3, k${j}));`, '\n      ')}
    }
    let base = (hg * p.L + sFirst) * (p.Rp / 4u) + rg;
    ${each((j) => `if (sFirst + ${j}u < p.L) { P[base + ${j}u * (p.Rp / 4u)] = acc${j} * p.scale; }`)}
  }
}
`;
}

/** softmax: row i of P over s < lim(i), in place, and 1/Σ after P (dispatch [⌈rows/64⌉, HG]). */
export function attentionSoftmaxWgsl(G: number): string {
  return `${common(1, G, {})}
@group(0) @binding(0) var<storage, read_write> P: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(${ATTENTION_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let ii = gid.x;
  let hg = wid.y;
  if (ii >= p.rows) { return; }
  let n = min(lim(p.row0 + ii), p.L);
  let base = hg * p.L * p.Rp + ii;
  var m = -3.0e38;
  for (var s = 0u; s < n; s++) { m = max(m, P[base + s * p.Rp]); }
  var sum = 0.0;
  for (var s = 0u; s < n; s++) {
    let e = exp(P[base + s * p.Rp] - m);
    P[base + s * p.Rp] = e;
    sum += e;
  }
  for (var s = n; s < min(n + 3u, p.L); s++) { P[base + s * p.Rp] = 0.0; }
  P[p.HG * p.L * p.Rp + hg * p.Rp + ii] = 1.0 / sum;
}
`;
}

/** Invocations per workgroup of the pv pass for head_dim HD: one per 4 dims, at most 64. */
export function attentionPvWorkgroup(HD: number): number {
  return Math.min(ATTENTION_WG, Math.ceil(HD / 4));
}

/**
 * pv: 4 rows × 4 dims of out per invocation over its split of the keys; a workgroup is one (hg, block of
 * ATTENTION_ROW_GROUPS row groups, split) and walks the block's row groups; its invocations take consecutive dims (v
 * loads contiguous across lanes, P loads shared). Dispatch: HG·⌈rows/16⌉·splits workgroups. `split` writes partials (HG, Rp, splits, HD) for the combine pass instead of out.
 */
export function attentionPvWgsl(HD: number, G: number, split: boolean): string {
  const J = [0, 1, 2, 3];
  const W = attentionPvWorkgroup(HD);
  const each = (f: (j: number) => string, sep = '\n    '): string => J.map(f).join(sep);
  // Row j of the block: out (or its partial of this split) at dims 4·d4 … 4·d4+3.
  const store = (j: number): string => `let o = acc${j} * P[(invBase + ${j}u) / 4u][(invBase + ${j}u) % 4u];
        let oo = ${split ? `((hg * p.Rp + ii0 + ${j}u) * p.splits + sp) * HD` : `q_off(hg, i0 + ${j}u)`} + d4 * 4u;
        for (var c = 0u; c < 4u; c++) { if (d4 * 4u + c < HD) { dst[oo + c] = o[c]; } }`;
  return `${common(HD, G, { v: 2 })}
@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read> P: array<vec4f>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(${W})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  var id = wid.y * nwg.x + wid.x;
  let sp = id % p.splits;
  id /= p.splits;
  let RB = (p.rows + ${4 * ATTENTION_ROW_GROUPS - 1}u) / ${4 * ATTENTION_ROW_GROUPS}u;
  let rb = id % RB;
  let hg = id / RB;
  if (hg >= p.HG) { return; }
  let sBegin = sp * p.splitKeys;
  let pStride = p.Rp / 4u;
  let vStride = p.NKV * HD / QU;
  for (var rg = rb * ${ATTENTION_ROW_GROUPS}u; rg < (rb + 1u) * ${ATTENTION_ROW_GROUPS}u; rg++) {
    let ii0 = rg * 4u;
    if (ii0 >= p.rows) { break; }
    let i0 = p.row0 + ii0;
    let iLast = p.row0 + min(ii0 + 3u, p.rows - 1u);
    let sEnd = min(lim(iLast), min(sBegin + p.splitKeys, p.L));
    let invBase = p.HG * p.L * p.Rp + hg * p.Rp + ii0; // 1/Σ of the block's rows
    for (var d4 = lid; d4 < HD4; d4 += ${W}u) {
      var po = (hg * p.L + sBegin) * pStride + rg;
      var vo = kv_off(hg, sBegin) / QU;
      ${each((j) => `var acc${j} = vec4f(0.0);`, '\n      ')}
      for (var s = sBegin; s < sEnd; s++) {
        let pr = P[po];
        let vs = v4(vo, d4);
        po += pStride;
        vo += vStride;
        ${each((j) => `acc${j} += pr[${j}] * vs;`, '\n        ')}
      }
      ${J.map((j) => `if (ii0 + ${j}u < p.rows) {
        ${store(j)}
      }`).join('\n      ')}
    }
  }
}
`;
}

/** combine: out = Σ over splits of the partials, one invocation per (hg, row of the chunk, dim). */
export function attentionCombineWgsl(HD: number, G: number): string {
  return `${common(HD, G, {})}
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(${ATTENTION_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let id = (wid.y * nwg.x + wid.x) * ${ATTENTION_WG}u + lid;
  let d = id % HD;
  let ii = (id / HD) % p.rows;
  let hg = id / (HD * p.rows);
  if (hg >= p.HG) { return; }
  let po = (hg * p.Rp + ii) * p.splits * HD + d;
  var a = 0.0;
  for (var c = 0u; c < p.splits; c++) { a += part[po + c * HD]; }
  out[q_off(hg, p.row0 + ii) + d] = a;
}
`;
}

// Backward kernels (AssemblyScript, SIMD f32x4), the pairs of the forward kernels of this folder. Every gradient is
// ACCUMULATED (+=), as in llm.c; the caller zero-fills. Each kernel quotes the forward line it differentiates.
// Legend: N = rows, C = channels (row length), OC = out channels, K = reduced dimension, V = vocabulary,
// B = batch, T = positions, NH = query heads, NKV = key/value heads, HD = head_dim.
// All pointers are byte offsets into linear memory; the host owns the allocation.

@inline function loadB(b: usize, idx: usize, bf16: bool): f32 {
  if (bf16) return reinterpret<f32>(<u32>load<u16>(b + (idx << 1)) << 16);
  return load<f32>(b + (idx << 2));
}

/** 8 consecutive values of b from element idx as two f32x4, bf16 widened: values 0–3 (lo) and 4–7 (hi). */
@inline function load8lo(b: usize, idx: usize, bf16: bool): v128 {
  if (bf16) return i32x4.shl(i32x4.extend_low_i16x8_u(v128.load(b + (idx << 1))), 16);
  return v128.load(b + (idx << 2));
}
@inline function load8hi(b: usize, idx: usize, bf16: bool): v128 {
  if (bf16) return i32x4.shl(i32x4.extend_high_i16x8_u(v128.load(b + (idx << 1))), 16);
  return v128.load(b + (idx << 2), 16);
}

@inline function addStore(p: usize, x: v128): void {
  v128.store(p, f32x4.add(v128.load(p), x));
}

/** Reduced-dimension rows per cache block of gemmAcc. */
export const GK: i32 = 256;
/** Columns per cache block (a multiple of 8). */
export const GN: i32 = 128;
/** Output rows per cache block (a multiple of 4). */
export const GM: i32 = 64;
/** Bytes of the packing scratch gemmAcc needs: a (GK × GN) block of b and a (GM × GK) block of a, f32. */
export const GEMM_ACC_PACK_BYTES: i32 = (GK * GN + GM * GK) * 4;

/** Packs b[k0 : k0+kc, c0 : c0+nc] into ⌈nc/8⌉ panels of (kc × 8) f32, k-major, zero-padding columns past nc. */
function packB(dst: usize, b: usize, C: i32, c0: i32, nc: i32, k0: i32, kc: i32, bf16: bool): void {
  const panels = (nc + 7) >> 3;
  for (let q = 0; q < panels; q++) {
    const cq = c0 + q * 8;
    const cols = min(8, nc - q * 8);
    let d = dst + <usize>(q * kc * 8) * 4;
    for (let k = 0; k < kc; k++) {
      const row = <usize>(k0 + k) * <usize>C + <usize>cq;
      if (cols == 8) {
        v128.store(d, load8lo(b, row, bf16));
        v128.store(d, load8hi(b, row, bf16), 16);
      } else {
        for (let j = 0; j < 8; j++) store<f32>(d + (<usize>j << 2), j < cols ? loadB(b, row + <usize>j, bf16) : 0);
      }
      d += 32;
    }
  }
}

/** Packs rows i0 … i0+mc−1 (k0 … k0+kc−1) of a into ⌈mc/4⌉ panels of (kc × 4) f32, k-major, zero-padding rows. */
function packA(dst: usize, a: usize, aI: i32, aK: i32, i0: i32, mc: i32, k0: i32, kc: i32): void {
  const panels = (mc + 3) >> 2;
  for (let q = 0; q < panels; q++) {
    const rows = min(4, mc - q * 4);
    const base = dst + <usize>(q * kc * 4) * 4;
    for (let r = 0; r < 4; r++) {
      let d = base + (<usize>r << 2);
      if (r < rows) {
        let src = a + ((<usize>(i0 + q * 4 + r) * <usize>aI + <usize>k0 * <usize>aK) << 2);
        const step = <usize>aK << 2;
        for (let k = 0; k < kc; k++) {
          store<f32>(d, load<f32>(src));
          src += step;
          d += 16;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          store<f32>(d, 0);
          d += 16;
        }
      }
    }
  }
}

/** Adds 8 columns (lo, hi) into one output row, of which `cols` are valid. */
@inline function addRow(o: usize, lo: v128, hi: v128, cols: i32): void {
  if (cols == 8) {
    addStore(o, lo);
    addStore(o + 16, hi);
    return;
  }
  for (let j = 0; j < cols; j++) {
    let x: f32;
    switch (j) {
      case 0: x = f32x4.extract_lane(lo, 0); break;
      case 1: x = f32x4.extract_lane(lo, 1); break;
      case 2: x = f32x4.extract_lane(lo, 2); break;
      case 3: x = f32x4.extract_lane(lo, 3); break;
      case 4: x = f32x4.extract_lane(hi, 0); break;
      case 5: x = f32x4.extract_lane(hi, 1); break;
      default: x = f32x4.extract_lane(hi, 2);
    }
    const q = o + (<usize>j << 2);
    store<f32>(q, load<f32>(q) + x);
  }
}

/** 4 rows × 8 columns over kc: ap at a packed (kc × 4) panel of a, bp at a packed (kc × 8) panel of b. */
function kernel4x8(out: usize, C: i32, ap: usize, bp: usize, kc: i32, rows: i32, cols: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    const x0 = v128.load32_splat(ap);
    const x1 = v128.load32_splat(ap, 4);
    const x2 = v128.load32_splat(ap, 8);
    const x3 = v128.load32_splat(ap, 12);
    c00 = f32x4.add(c00, f32x4.mul(x0, b0)); c01 = f32x4.add(c01, f32x4.mul(x0, b1));
    c10 = f32x4.add(c10, f32x4.mul(x1, b0)); c11 = f32x4.add(c11, f32x4.mul(x1, b1));
    c20 = f32x4.add(c20, f32x4.mul(x2, b0)); c21 = f32x4.add(c21, f32x4.mul(x2, b1));
    c30 = f32x4.add(c30, f32x4.mul(x3, b0)); c31 = f32x4.add(c31, f32x4.mul(x3, b1));
    ap += 16;
    bp += 32;
  }
  const os = <usize>C << 2;
  addRow(out, c00, c01, cols);
  if (rows > 1) addRow(out + os, c10, c11, cols);
  if (rows > 2) addRow(out + 2 * os, c20, c21, cols);
  if (rows > 3) addRow(out + 3 * os, c30, c31, cols);
}

/**
 * Forward (matmul.ts): `out[n·OC + o] = Σ_c inp[n·C + c]·w[o·C + c]`. Both gradients (and the LM head's, per vocabulary
 * chunk) are one accumulating product:
 *   out[i·C + c] += Σ_k a[i·aI + k·aK] · b[k·C + c]        i < M, c < C, k < K
 * out is (M,C) f32; a is read with element strides aI (over i) and aK (over k), f32; b is (K,C), f32 or bf16 bits.
 * dinp = dout·W is (aI = OC, aK = 1, b = W); dweight = doutᵀ·inp is (aI = 1, aK = OC, b = inp).
 * Cache-blocked as the forward: per block of GN columns and GK k-rows, b is packed (widened) into 8-column panels,
 * then per block of GM rows a is packed into 4-row panels, and a 4×8 register-blocked micro-kernel (8 f32x4
 * accumulators) sweeps the panels, which stay in L1/L2. Padding rows and columns are zero and never stored.
 * `scratch` holds GEMM_ACC_PACK_BYTES.
 */
export function gemmAcc(
  out: usize, a: usize, aI: i32, aK: i32, b: usize, bBf16: i32, M: i32, K: i32, C: i32, scratch: usize,
): void {
  gemmAccRange(out, a, aI, aK, b, bBf16, M, K, C, scratch, 0, C);
}

/**
 * The columns c0 … c1−1 of `gemmAcc` (one thread's share, with its own `scratch`). Every output element is reduced in
 * the same order whatever the range, so any split of [0, C) gives the single-call result bit for bit.
 */
export function gemmAccRange(
  out: usize, a: usize, aI: i32, aK: i32, b: usize, bBf16: i32, M: i32, K: i32, C: i32, scratch: usize, cBegin: i32, cEnd: i32,
): void {
  const bf16 = bBf16 != 0;
  const bPack = scratch;
  const aPack = scratch + <usize>(GK * GN) * 4;
  const os = <usize>C << 2;
  for (let c0 = cBegin; c0 < cEnd; c0 += GN) {
    const nc = min(GN, cEnd - c0);
    const qPanels = (nc + 7) >> 3;
    for (let k0 = 0; k0 < K; k0 += GK) {
      const kc = min(GK, K - k0);
      packB(bPack, b, C, c0, nc, k0, kc, bf16);
      for (let i0 = 0; i0 < M; i0 += GM) {
        const mc = min(GM, M - i0);
        const iPanels = (mc + 3) >> 2;
        packA(aPack, a, aI, aK, i0, mc, k0, kc);
        for (let ip = 0; ip < iPanels; ip++) {
          const rows = min(4, mc - ip * 4);
          const o = out + <usize>(i0 + ip * 4) * os + (<usize>c0 << 2);
          const ap = aPack + <usize>(ip * kc * 4) * 4;
          for (let q = 0; q < qPanels; q++) {
            kernel4x8(o + (<usize>(q * 8) << 2), C, ap, bPack + <usize>(q * kc * 8) * 4, kc, rows, min(8, nc - q * 8));
          }
        }
      }
    }
  }
}

/**
 * Forward: `out[x + c] = inp[x + c] * rstd * weight[c]`, rstd = 1/sqrt(Σ inp²/C + eps)  (also the QK-norm, rows of HD).
 * dinp, dout, inp are (N,C); dweight, weight are (C).
 *   dweight[c] += dout·inp·rstd;   dinp += rstd·dout·weight − rstd³·inp·(Σ dout·weight·inp)/C
 */
export function rmsnormBackward(
  dinp: usize, dweight: usize, dout: usize, inp: usize, weight: usize, N: i32, C: i32, eps: f32,
): void {
  for (let r = 0; r < N; r++) {
    const off = <usize>r * <usize>C << 2;
    const x = inp + off, g = dout + off, dx = dinp + off;
    let s4 = f32x4.splat(0), d4 = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const v = v128.load(x + o);
      s4 = f32x4.add(s4, f32x4.mul(v, v));
      d4 = f32x4.add(d4, f32x4.mul(f32x4.mul(v128.load(g + o), v128.load(weight + o)), v));
    }
    let ss = f32x4.extract_lane(s4, 0) + f32x4.extract_lane(s4, 1) + f32x4.extract_lane(s4, 2) + f32x4.extract_lane(s4, 3);
    let dot = f32x4.extract_lane(d4, 0) + f32x4.extract_lane(d4, 1) + f32x4.extract_lane(d4, 2) + f32x4.extract_lane(d4, 3);
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const v = load<f32>(x + o);
      ss += v * v;
      dot += load<f32>(g + o) * load<f32>(weight + o) * v;
    }
    const rstd: f32 = 1 / Mathf.sqrt(ss / <f32>C + eps);
    const k: f32 = rstd * rstd * rstd * dot / <f32>C;
    const r4 = f32x4.splat(rstd), k4 = f32x4.splat(k);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const v = v128.load(x + o);
      const go = v128.load(g + o);
      addStore(dweight + o, f32x4.mul(f32x4.mul(go, v), r4));
      addStore(dx + o, f32x4.sub(f32x4.mul(f32x4.mul(go, v128.load(weight + o)), r4), f32x4.mul(k4, v)));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const v = load<f32>(x + o);
      const go = load<f32>(g + o);
      store<f32>(dweight + o, load<f32>(dweight + o) + go * v * rstd);
      store<f32>(dx + o, load<f32>(dx + o) + (rstd * go * load<f32>(weight + o) - k * v));
    }
  }
}

/**
 * Forward: `out[d] = x1·cos − x2·sin;  out[d+HD/2] = x2·cos + x1·sin`. The transposed rotation:
 *   dinp[d] += dout[d]·cos + dout[d+HD/2]·sin;   dinp[d+HD/2] += dout[d+HD/2]·cos − dout[d]·sin.
 * dinp, dout are (B,T,NH,HD); cos, sin are the (T, HD/2) table of the forward.
 */
export function ropeBackward(dinp: usize, dout: usize, cos: usize, sin: usize, B: i32, T: i32, NH: i32, HD: i32): void {
  const half = HD >> 1;
  const hb = <usize>half << 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const cs = cos + (<usize>(t * half) << 2);
      const sn = sin + (<usize>(t * half) << 2);
      for (let h = 0; h < NH; h++) {
        const off = <usize>(((b * T + t) * NH + h) * HD) << 2;
        const g = dout + off;
        const dx = dinp + off;
        let d = 0;
        for (; d + 4 <= half; d += 4) {
          const o = <usize>d << 2;
          const c = v128.load(cs + o);
          const s = v128.load(sn + o);
          const d1 = v128.load(g + o);
          const d2 = v128.load(g + hb + o);
          addStore(dx + o, f32x4.add(f32x4.mul(d1, c), f32x4.mul(d2, s)));
          addStore(dx + hb + o, f32x4.sub(f32x4.mul(d2, c), f32x4.mul(d1, s)));
        }
        for (; d < half; d++) {
          const o = <usize>d << 2;
          const c = load<f32>(cs + o);
          const s = load<f32>(sn + o);
          const d1 = load<f32>(g + o);
          const d2 = load<f32>(g + hb + o);
          store<f32>(dx + o, load<f32>(dx + o) + (d1 * c + d2 * s));
          store<f32>(dx + hb + o, load<f32>(dx + hb + o) + (d2 * c - d1 * s));
        }
      }
    }
  }
}

@inline function dot(a: usize, b: usize, n: i32): f32 {
  let s4 = f32x4.splat(0);
  let d = 0;
  for (; d + 4 <= n; d += 4) s4 = f32x4.add(s4, f32x4.mul(v128.load(a + (<usize>d << 2)), v128.load(b + (<usize>d << 2))));
  let s = f32x4.extract_lane(s4, 0) + f32x4.extract_lane(s4, 1) + f32x4.extract_lane(s4, 2) + f32x4.extract_lane(s4, 3);
  for (; d < n; d++) s += load<f32>(a + (<usize>d << 2)) * load<f32>(b + (<usize>d << 2));
  return s;
}

/** y[0:n] += s·x[0:n]. */
@inline function axpy(y: usize, s: f32, x: usize, n: i32): void {
  const s4 = f32x4.splat(s);
  let d = 0;
  for (; d + 4 <= n; d += 4) {
    const o = <usize>d << 2;
    addStore(y + o, f32x4.mul(s4, v128.load(x + o)));
  }
  for (; d < n; d++) {
    const o = <usize>d << 2;
    store<f32>(y + o, load<f32>(y + o) + s * load<f32>(x + o));
  }
}

/**
 * Forward (prefill, past = 0, S = T): `scores[s] = q·k[s]·scale` (s ≤ t), P = softmax(scores), `out = Σ_s P[s]·v[s]`.
 * Per query row (b, t, h) the softmax is recomputed, then
 *   dv[s] += P[s]·dout;  dP[s] = dout·v[s];  dscore[s] = P[s]·(dP[s] − Σ_j P[j]·dP[j]);
 *   dq += scale·Σ_s dscore[s]·k[s];  dk[s] += scale·dscore[s]·q.
 * dq, dout, q are (B,T,NH,HD); dk, dv, k, v are (B,T,NKV,HD); scratch holds 2·T f32 (P, dP).
 */
export function attentionBackward(
  dq: usize, dk: usize, dv: usize, dout: usize, q: usize, k: usize, v: usize,
  B: i32, T: i32, NH: i32, NKV: i32, HD: i32, scratch: usize,
): void {
  attentionBackwardRange(dq, dk, dv, dout, q, k, v, B, T, NH, NKV, HD, scratch, 0, B * NKV);
}

/**
 * The (batch, KV head) pairs g0 … g1−1 of `attentionBackward` (pair g = b·NKV + kvh, with the query heads of its
 * group): one thread's share, with its own `scratch`. dk/dv rows are only touched by their own group, in the same
 * (t, h) order as the single call, so any split gives its result bit for bit.
 */
export function attentionBackwardRange(
  dq: usize, dk: usize, dv: usize, dout: usize, q: usize, k: usize, v: usize,
  B: i32, T: i32, NH: i32, NKV: i32, HD: i32, scratch: usize, g0: i32, g1: i32,
): void {
  const group = NH / NKV;
  const scale: f32 = 1 / Mathf.sqrt(<f32>HD);
  const kvRow = <usize>(NKV * HD) << 2;
  const P = scratch;
  const dP = scratch + (<usize>T << 2);
  for (let g = g0; g < g1; g++) {
    const b = g / NKV;
    const kvh = g % NKV;
    for (let t = 0; t < T; t++) {
      const L = t + 1;
      for (let h = kvh * group; h < (kvh + 1) * group; h++) {
        const qoff = <usize>(((b * T + t) * NH + h) * HD) << 2;
        const kvoff = <usize>(b * T) * kvRow + (<usize>(kvh * HD) << 2);
        const qo = q + qoff, go = dout + qoff, dqo = dq + qoff;
        let max = -Infinity as f32;
        for (let s = 0; s < L; s++) {
          const x = dot(qo, k + kvoff + <usize>s * kvRow, HD) * scale;
          store<f32>(P + (<usize>s << 2), x);
          if (x > max) max = x;
        }
        let sum: f32 = 0;
        for (let s = 0; s < L; s++) {
          const e = Mathf.exp(load<f32>(P + (<usize>s << 2)) - max);
          store<f32>(P + (<usize>s << 2), e);
          sum += e;
        }
        const inv: f32 = 1 / sum;
        let dPdotP: f32 = 0;
        for (let s = 0; s < L; s++) {
          const p = load<f32>(P + (<usize>s << 2)) * inv;
          store<f32>(P + (<usize>s << 2), p);
          const vr = kvoff + <usize>s * kvRow;
          const x = dot(go, v + vr, HD);
          store<f32>(dP + (<usize>s << 2), x);
          dPdotP += p * x;
          axpy(dv + vr, p, go, HD);
        }
        for (let s = 0; s < L; s++) {
          const ds = load<f32>(P + (<usize>s << 2)) * (load<f32>(dP + (<usize>s << 2)) - dPdotP) * scale;
          const kr = kvoff + <usize>s * kvRow;
          axpy(dqo, ds, k + kr, HD);
          axpy(dk + kr, ds, qo, HD);
        }
      }
    }
  }
}

/**
 * Forward: `out[i] = silu(g)·up[i]`, silu(g) = g·σ(g), g = gate[i].
 *   dup += dout·silu(g);   dgate += dout·up·σ(g)·(1 + g·(1 − σ(g))).   All (N).
 */
export function swigluBackward(dgate: usize, dup: usize, dout: usize, gate: usize, up: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gate + o);
    const d = load<f32>(dout + o);
    const sig: f32 = 1 / (1 + Mathf.exp(-g));
    store<f32>(dup + o, load<f32>(dup + o) + d * g * sig);
    store<f32>(dgate + o, load<f32>(dgate + o) + d * load<f32>(up + o) * sig * (1 + g * (1 - sig)));
  }
}

/** Forward: `out[i] = inp1[i] + inp2[i]`.  dinp1 += dout, dinp2 += dout.  All (N). */
export function residualBackward(dinp1: usize, dinp2: usize, dout: usize, N: i32): void {
  let i = 0;
  for (; i + 4 <= N; i += 4) {
    const o = <usize>i << 2;
    const d = v128.load(dout + o);
    addStore(dinp1 + o, d);
    addStore(dinp2 + o, d);
  }
  for (; i < N; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(dout + o);
    store<f32>(dinp1 + o, load<f32>(dinp1 + o) + d);
    store<f32>(dinp2 + o, load<f32>(dinp2 + o) + d);
  }
}

/**
 * Forward: `out[bt*C + c] = wte[tokens[bt]*C + c]`.  dwte[tokens[bt], :] += dout[bt, :], in order of bt.
 * dwte is (V,C); dout is (N,C); tokens is (N) i32 in [0, V).
 */
export function embeddingBackward(dwte: usize, dout: usize, tokens: usize, N: i32, C: i32): void {
  for (let r = 0; r < N; r++) {
    const id = load<i32>(tokens + (<usize>r << 2));
    axpy(dwte + (<usize>id * <usize>C << 2), 1, dout + (<usize>r * <usize>C << 2), C);
  }
}

/**
 * The LM head's gradient on one vocabulary chunk, in place: logits (N,VC) of vocabulary rows v0 … v0+VC−1 become
 *   dlogit[r, j] = dlogprobs[r]·(onehot(targets[r])[v0 + j] − exp(logit − lse[r]))
 * with lse = m + log Σ from the state (N,3) f64 of lseInit/lseUpdate (lmhead.ts). dlogprobs (N) f32, targets (N) i32.
 */
export function lmHeadDlogits(logits: usize, state: usize, dlogprobs: usize, targets: usize, N: i32, VC: i32, v0: i32): void {
  for (let r = 0; r < N; r++) {
    const s = state + (<usize>r * 24);
    const lse = load<f64>(s) + Math.log(load<f64>(s, 8));
    const g = <f64>load<f32>(dlogprobs + (<usize>r << 2));
    const t = load<i32>(targets + (<usize>r << 2)) - v0;
    const x = logits + (<usize>r * <usize>VC << 2);
    for (let j = 0; j < VC; j++) {
      const p = Math.exp(<f64>load<f32>(x + (<usize>j << 2)) - lse);
      store<f32>(x + (<usize>j << 2), <f32>(g * ((j == t ? 1.0 : 0.0) - p)));
    }
  }
}

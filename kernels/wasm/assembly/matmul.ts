// Matmul kernels (AssemblyScript, SIMD f32x4). Legend: N = rows (B·T), C = in channels, OC = out channels.
// out is (N,OC); inp is (N,C); w is (OC,C) stored [out, in], f32 or bf16 (raw bits) widened on the fly.
// All pointers are byte offsets into linear memory; the host owns the allocation.
//
// N ≥ 4 goes through the blocked path: W is packed block by block (KC in-channels × NC out-channels, widened to f32)
// into panels of 8 out-channels laid out k-major, then a 4×8 register-blocked micro-kernel (8 f32x4 accumulators)
// sweeps every 4-row slab of inp over the packed block, which stays in L2. N < 4 (decode) takes a dot-product path
// that reads each weight row once and needs no packing.

/** In-channels per cache block. */
export const KC: i32 = 512;
/** Out-channels per cache block (a multiple of 8). */
export const NC: i32 = 64;
/** Bytes of the packing scratch the host must provide. */
export const PACK_BYTES: i32 = KC * NC * 4;

@inline function loadW(w: usize, idx: usize, bf16: bool): f32 {
  if (bf16) return reinterpret<f32>(<u32>load<u16>(w + (idx << 1)) << 16);
  return load<f32>(w + (idx << 2));
}

/** 8 bf16 values at p widened to two f32x4 (low 4, high 4). */
@inline function widenLo(v: v128): v128 {
  return i32x4.shl(i32x4.extend_low_i16x8_u(v), 16);
}
@inline function widenHi(v: v128): v128 {
  return i32x4.shl(i32x4.extend_high_i16x8_u(v), 16);
}

/**
 * Stores the transpose of the 4×4 block with rows r0…r3 as 4 rows at d, d + 32, d + 64, d + 96 (a packed panel's
 * rows are 8 floats apart): row i of the result is lane i of r0…r3.
 */
@inline function storeT4(d: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(d, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(d, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 32);
  v128.store(d, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 64);
  v128.store(d, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 96);
}

/**
 * Packs one full panel: w[o0 : o0+8, k0 : k0+kc] into kc rows of 8 f32 at d (row k holds the 8 out-channels of
 * in-channel k0+k). SIMD: 8 (bf16) or 4 (f32) in-channels of the 8 weight rows at a time, widened and transposed in
 * registers; the same values as the scalar loop of `pack`, only moved faster (decode-sized matmuls spend about as
 * long packing as multiplying).
 */
function packPanel(d: usize, w: usize, C: i32, o0: i32, k0: i32, kc: i32, bf16: bool): void {
  const shift: usize = bf16 ? 1 : 2;
  const rs = <usize>C << shift;
  let r = w + ((<usize>o0 * <usize>C + <usize>k0) << shift);
  let k = 0;
  if (bf16) {
    for (; k + 8 <= kc; k += 8) {
      const v0 = v128.load(r), v1 = v128.load(r + rs), v2 = v128.load(r + 2 * rs), v3 = v128.load(r + 3 * rs);
      const v4 = v128.load(r + 4 * rs), v5 = v128.load(r + 5 * rs), v6 = v128.load(r + 6 * rs), v7 = v128.load(r + 7 * rs);
      storeT4(d, widenLo(v0), widenLo(v1), widenLo(v2), widenLo(v3));
      storeT4(d + 16, widenLo(v4), widenLo(v5), widenLo(v6), widenLo(v7));
      storeT4(d + 128, widenHi(v0), widenHi(v1), widenHi(v2), widenHi(v3));
      storeT4(d + 144, widenHi(v4), widenHi(v5), widenHi(v6), widenHi(v7));
      r += 16;
      d += 256;
    }
  } else {
    for (; k + 4 <= kc; k += 4) {
      storeT4(d, v128.load(r), v128.load(r + rs), v128.load(r + 2 * rs), v128.load(r + 3 * rs));
      storeT4(d + 16, v128.load(r + 4 * rs), v128.load(r + 5 * rs), v128.load(r + 6 * rs), v128.load(r + 7 * rs));
      r += 16;
      d += 128;
    }
  }
  for (; k < kc; k++) {
    const row = <usize>o0 * <usize>C + <usize>(k0 + k);
    for (let j = 0; j < 8; j++) store<f32>(d + (<usize>j << 2), loadW(w, row + <usize>j * <usize>C, bf16));
    d += 32;
  }
}

/** Packs w[oc0 : oc0+nc, k0 : k0+kc] into ⌈nc/8⌉ panels of (kc × 8) f32, zero-padding out-channels past OC. */
function pack(dst: usize, w: usize, C: i32, OC: i32, oc0: i32, nc: i32, k0: i32, kc: i32, bf16: bool): void {
  const panels = (nc + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const base = dst + <usize>(p * kc * 8) * 4;
    if (p * 8 + 8 <= nc && oc0 + p * 8 + 8 <= OC) {
      packPanel(base, w, C, oc0 + p * 8, k0, kc, bf16);
      continue;
    }
    for (let j = 0; j < 8; j++) {
      const o = oc0 + p * 8 + j;
      let d = base + <usize>j * 4;
      if (o < oc0 + nc && o < OC) {
        const row = <usize>o * <usize>C + <usize>k0;
        for (let k = 0; k < kc; k++) {
          store<f32>(d, loadW(w, row + <usize>k, bf16));
          d += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          store<f32>(d, 0);
          d += 32;
        }
      }
    }
  }
}

/** Stores (or adds into) 8 out-channels of one row, of which `cols` are valid. */
@inline function storeRow(o: usize, lo: v128, hi: v128, cols: i32, acc: bool): void {
  if (cols == 8) {
    if (acc) {
      lo = f32x4.add(lo, v128.load(o));
      hi = f32x4.add(hi, v128.load(o, 16));
    }
    v128.store(o, lo);
    v128.store(o, hi, 16);
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
      case 6: x = f32x4.extract_lane(hi, 2); break;
      default: x = f32x4.extract_lane(hi, 3);
    }
    const q = o + (<usize>j << 2);
    store<f32>(q, acc ? load<f32>(q) + x : x);
  }
}

/** 4 rows × 8 out-channels over kc in-channels: a points at inp[n0, k0] (row stride C), b at a packed panel. */
function kernel4x8(out: usize, OC: i32, a: usize, C: i32, b: usize, kc: i32, cols: i32, acc: bool): void {
  const rs = <usize>C << 2;
  let a0 = a, a1 = a + rs, a2 = a + 2 * rs, a3 = a + 3 * rs;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const x0 = v128.load32_splat(a0);
    const x1 = v128.load32_splat(a1);
    const x2 = v128.load32_splat(a2);
    const x3 = v128.load32_splat(a3);
    c00 = f32x4.add(c00, f32x4.mul(x0, b0)); c01 = f32x4.add(c01, f32x4.mul(x0, b1));
    c10 = f32x4.add(c10, f32x4.mul(x1, b0)); c11 = f32x4.add(c11, f32x4.mul(x1, b1));
    c20 = f32x4.add(c20, f32x4.mul(x2, b0)); c21 = f32x4.add(c21, f32x4.mul(x2, b1));
    c30 = f32x4.add(c30, f32x4.mul(x3, b0)); c31 = f32x4.add(c31, f32x4.mul(x3, b1));
    b += 32; a0 += 4; a1 += 4; a2 += 4; a3 += 4;
  }
  const os = <usize>OC << 2;
  storeRow(out, c00, c01, cols, acc);
  storeRow(out + os, c10, c11, cols, acc);
  storeRow(out + 2 * os, c20, c21, cols, acc);
  storeRow(out + 3 * os, c30, c31, cols, acc);
}

/** 1 row × 8 out-channels (the rows left over after the 4-row slabs). */
function kernel1x8(out: usize, a: usize, b: usize, kc: i32, cols: i32, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(a);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(b)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(b, 16)));
    b += 32; a += 4;
  }
  storeRow(out, c0, c1, cols, acc);
}

/** Σ_c x[c]·w[c] over C values, w f32 or bf16. */
@inline function dot(x: usize, w: usize, C: i32, bf16: bool): f32 {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
  let c = 0;
  if (bf16) {
    for (; c + 8 <= C; c += 8) {
      const v = v128.load(w + (<usize>c << 1));
      s0 = f32x4.add(s0, f32x4.mul(v128.load(x + (<usize>c << 2)), widenLo(v)));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(x + (<usize>c << 2), 16), widenHi(v)));
    }
  } else {
    for (; c + 8 <= C; c += 8) {
      s0 = f32x4.add(s0, f32x4.mul(v128.load(x + (<usize>c << 2)), v128.load(w + (<usize>c << 2))));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(x + (<usize>c << 2), 16), v128.load(w + (<usize>c << 2), 16)));
    }
  }
  const s = f32x4.add(s0, s1);
  let r = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; c < C; c++) r += load<f32>(x + (<usize>c << 2)) * loadW(w, <usize>c, bf16);
  return r;
}

/** out (N,OC) = inp (N,C) · w (OC,C)ᵀ. `wBf16` ≠ 0 when w holds bf16 bits; `scratch` holds PACK_BYTES. */
export function matmul(out: usize, inp: usize, w: usize, N: i32, C: i32, OC: i32, wBf16: i32, scratch: usize): void {
  matmulRange(out, inp, w, N, C, OC, wBf16, scratch, 0, OC);
}

/**
 * The out-channels o0 … o1−1 of `matmul` (one thread's share; `scratch` is that thread's). Each output element is
 * reduced in the same order whatever the range, so any split of [0, OC) gives the single-call result bit for bit.
 */
export function matmulRange(
  out: usize, inp: usize, w: usize, N: i32, C: i32, OC: i32, wBf16: i32, scratch: usize, o0: i32, o1: i32,
): void {
  const bf16 = wBf16 != 0;
  if (N < 4) {
    for (let o = o0; o < o1; o++) {
      const wr = w + (<usize>o * <usize>C << (bf16 ? 1 : 2));
      for (let n = 0; n < N; n++) {
        store<f32>(out + ((<usize>n * <usize>OC + <usize>o) << 2), dot(inp + (<usize>n * <usize>C << 2), wr, C, bf16));
      }
    }
    return;
  }
  const rowsIn = <usize>C << 2;
  const rowsOut = <usize>OC << 2;
  for (let oc0 = o0; oc0 < o1; oc0 += NC) {
    const nc = min(NC, o1 - oc0);
    const panels = (nc + 7) >> 3;
    for (let k0 = 0; k0 < C; k0 += KC) {
      const kc = min(KC, C - k0);
      const acc = k0 > 0;
      pack(scratch, w, C, o1, oc0, nc, k0, kc, bf16);
      let n = 0;
      for (; n + 4 <= N; n += 4) {
        const a = inp + <usize>n * rowsIn + (<usize>k0 << 2);
        for (let p = 0; p < panels; p++) {
          const cols = min(8, nc - p * 8);
          const o = out + <usize>n * rowsOut + (<usize>(oc0 + p * 8) << 2);
          kernel4x8(o, OC, a, C, scratch + <usize>(p * kc * 8) * 4, kc, cols, acc);
        }
      }
      for (; n < N; n++) {
        const a = inp + <usize>n * rowsIn + (<usize>k0 << 2);
        for (let p = 0; p < panels; p++) {
          const cols = min(8, nc - p * 8);
          const o = out + <usize>n * rowsOut + (<usize>(oc0 + p * 8) << 2);
          kernel1x8(o, a, scratch + <usize>(p * kc * 8) * 4, kc, cols, acc);
        }
      }
    }
  }
}

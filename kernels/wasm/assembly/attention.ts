// Causal grouped-query attention. Legend: B = batch, T = new positions, NH = query heads, NKV = key/value heads,
// HD = head_dim, S = key/value rows per sequence, past = rows before this call.
// out, q are (B,T,NH,HD); k, v are (B,S,NKV,HD); scores is scratch of S f32.
// Query t of head h attends to keys 0 … past+t of KV head h / (NH/NKV), scores scaled by HD^−½, softmax in f32.

@inline function dot(a: usize, b: usize, n: i32): f32 {
  let s4 = f32x4.splat(0);
  let d = 0;
  for (; d + 4 <= n; d += 4) s4 = f32x4.add(s4, f32x4.mul(v128.load(a + (<usize>d << 2)), v128.load(b + (<usize>d << 2))));
  let s = f32x4.extract_lane(s4, 0) + f32x4.extract_lane(s4, 1) + f32x4.extract_lane(s4, 2) + f32x4.extract_lane(s4, 3);
  for (; d < n; d++) s += load<f32>(a + (<usize>d << 2)) * load<f32>(b + (<usize>d << 2));
  return s;
}

export function attention(
  out: usize, q: usize, k: usize, v: usize,
  B: i32, T: i32, NH: i32, NKV: i32, HD: i32, past: i32, S: i32, scores: usize,
): void {
  attentionRange(out, q, k, v, B, T, NH, NKV, HD, past, S, scores, 0, B * NH);
}

/**
 * The (batch, query head) pairs i0 … i1−1 of `attention` (pair i = b·NH + h), all T queries of each: one thread's
 * share, with its own `scores`. Every output row is computed alone, so any split gives the single-call result.
 */
export function attentionRange(
  out: usize, q: usize, k: usize, v: usize,
  B: i32, T: i32, NH: i32, NKV: i32, HD: i32, past: i32, S: i32, scores: usize, i0: i32, i1: i32,
): void {
  const group = NH / NKV;
  const scale: f32 = 1 / Mathf.sqrt(<f32>HD);
  const kvRow = <usize>(NKV * HD) << 2;
  for (let i = i0; i < i1; i++) {
    const b = i / NH;
    const h = i % NH;
    const kvh = h / group;
    const kb = k + <usize>(b * S) * kvRow + (<usize>(kvh * HD) << 2);
    const vb = v + <usize>(b * S) * kvRow + (<usize>(kvh * HD) << 2);
    for (let t = 0; t < T; t++) {
      const L = past + t + 1;
      const qo = q + (<usize>(((b * T + t) * NH + h) * HD) << 2);
      const oo = out + (<usize>(((b * T + t) * NH + h) * HD) << 2);
      let max = -Infinity as f32;
      for (let s = 0; s < L; s++) {
        const x = dot(qo, kb + <usize>s * kvRow, HD) * scale;
        store<f32>(scores + (<usize>s << 2), x);
        if (x > max) max = x;
      }
      let sum: f32 = 0;
      for (let s = 0; s < L; s++) {
        const e = Mathf.exp(load<f32>(scores + (<usize>s << 2)) - max);
        store<f32>(scores + (<usize>s << 2), e);
        sum += e;
      }
      memory.fill(oo, 0, <usize>HD << 2);
      for (let s = 0; s < L; s++) {
        const p = load<f32>(scores + (<usize>s << 2));
        const p4 = f32x4.splat(p);
        const vr = vb + <usize>s * kvRow;
        let d = 0;
        for (; d + 4 <= HD; d += 4) {
          const o = <usize>d << 2;
          v128.store(oo + o, f32x4.add(v128.load(oo + o), f32x4.mul(p4, v128.load(vr + o))));
        }
        for (; d < HD; d++) {
          const o = <usize>d << 2;
          store<f32>(oo + o, load<f32>(oo + o) + p * load<f32>(vr + o));
        }
      }
      const inv: f32 = 1 / sum;
      for (let d = 0; d < HD; d++) {
        const o = <usize>d << 2;
        store<f32>(oo + o, load<f32>(oo + o) * inv);
      }
    }
  }
}

// Elementwise ops. Legend: N = element count.

/** out = silu(gate) · up, silu(x) = x / (1 + e^−x). */
export function swiglu(out: usize, gate: usize, up: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gate + o);
    store<f32>(out + o, (g / (1 + Mathf.exp(-g))) * load<f32>(up + o));
  }
}

/** out = inp1 + inp2. */
export function residual(out: usize, inp1: usize, inp2: usize, N: i32): void {
  let i = 0;
  for (; i + 4 <= N; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(inp1 + o), v128.load(inp2 + o)));
  }
  for (; i < N; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(inp1 + o) + load<f32>(inp2 + o));
  }
}

/** out (N) f32 = bf16 bits (N) widened. */
export function widenBf16(out: usize, inp: usize, N: i32): void {
  let i = 0;
  for (; i + 8 <= N; i += 8) {
    const v = v128.load(inp + (<usize>i << 1));
    v128.store(out + (<usize>i << 2), i32x4.shl(i32x4.extend_low_i16x8_u(v), 16));
    v128.store(out + (<usize>i << 2), i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), 16);
  }
  for (; i < N; i++) store<u32>(out + (<usize>i << 2), <u32>load<u16>(inp + (<usize>i << 1)) << 16);
}

/** Zeroes `bytes` bytes at p (bulk memory's memory.fill: a memset, where a typed array's fill over shared memory
 * runs element by element). */
export function zero(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}

/**
 * The webgpu backend against ref, op by op, for real: on lavapipe (Mesa's software Vulkan) where there is no GPU.
 * Never skipped: a machine without an adapter fails here with NO_ADAPTER_MESSAGE.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { attentionForward as refAttention } from '../../kernels/ref/attention.ts';
import { rmsnormRows as refRmsnormRows } from '../../kernels/ref/rmsnorm.ts';
import { ropeForward as refRope } from '../../kernels/ref/rope.ts';
import { attention } from '../../kernels/webgpu/attention.ts';
import { GpuContext } from '../../kernels/webgpu/context.ts';
import { requestGpuDevice } from '../../kernels/webgpu/device.ts';
import type { WebGPUBackend } from '../../kernels/webgpu/index.ts';
import { createNodeWebGPUBackend, nodeGpu } from '../../kernels/webgpu/node-device.ts';
import { rmsnorm } from '../../kernels/webgpu/rmsnorm.ts';
import { checkTensor, randomF32 } from './check.ts';
import { opSuite } from './suite.ts';

// As wasm (f32 against ref's f64), plus the GPU's exp/sqrt (a few ulps) and any FMA contraction the compiler applies.
opSuite('webgpu', createNodeWebGPUBackend, {
  copy: { abs: 0, rel: 0 },
  elementwise: { abs: 1e-6, rel: 1e-5 },
  norm: { abs: 1e-5, rel: 1e-5 },
  rope: { abs: 1e-6, rel: 1e-6 },
  // f32 sums of C ≤ 530 products in [−1, 1]: observed ≤ 2e-5 (worst-case bound C·2⁻²⁴·Σ|xw| ≈ 4e-3).
  matmul: { abs: 5e-5, rel: 1e-5 },
  attention: { abs: 1e-5, rel: 1e-5 },
  lmHead: { abs: 1e-5, rel: 1e-6 },
  // p·(1 + Δlogit − Σ p·Δlogit): relative error ≈ 2× the logits' f32 error; observed ≤ 2e-6 (C ≤ 32, |logit| ≤ 40).
  probs: { abs: 1e-9, rel: 1e-5 },
});

// The tiled attention (kernels/webgpu/attention.ts) on the shapes the golden suite's small cases do not reach: head
// dims that are not a multiple of 4 (scalar loads), row blocks of 4 straddling positions and heads, Qwen3 head
// shapes, split-K decode against a long cache, and calls whose P matrix exceeds the scratch budget (several row
// chunks). Against ref's float64 attentionForward; observed max |Δ| ≤ 1e-6 (outputs are averages of v in [−1, 1]).
describe('webgpu attention tiles, splits and chunks against ref', () => {
  const tol = { abs: 1e-5, rel: 1e-5 };
  let be: WebGPUBackend;
  beforeAll(async () => {
    be = await createNodeWebGPUBackend();
  });
  afterAll(() => be?.destroy());

  it.each([
    { B: 1, T: 9, NH: 3, NKV: 3, HD: 6, past: 2, S: 12, why: 'HD % 4 != 0' },
    { B: 2, T: 7, NH: 4, NKV: 2, HD: 10, past: 0, S: 7, why: 'HD % 4 != 0, B > 1' },
    { B: 1, T: 37, NH: 4, NKV: 2, HD: 16, past: 0, S: 37, why: 'rows not a multiple of 4' },
    { B: 1, T: 33, NH: 16, NKV: 8, HD: 128, past: 0, S: 33, why: 'Qwen3-0.6B heads, prefill' },
    { B: 1, T: 20, NH: 32, NKV: 8, HD: 128, past: 100, S: 130, why: 'Qwen3-4B heads, prefill after a cache' },
    { B: 1, T: 1, NH: 32, NKV: 8, HD: 128, past: 1023, S: 1024, why: 'decode, Qwen3-4B heads' },
    { B: 2, T: 1, NH: 16, NKV: 8, HD: 128, past: 300, S: 301, why: 'decode, Qwen3-0.6B heads, B > 1' },
    { B: 1, T: 1, NH: 2, NKV: 1, HD: 16, past: 1023, S: 1024, why: 'decode, keys split 16 ways' },
    { B: 2, T: 1, NH: 4, NKV: 1, HD: 8, past: 200, S: 201, why: 'decode, keys split, last split short, B > 1' },
    { B: 1, T: 2, NH: 2, NKV: 1, HD: 12, past: 500, S: 502, why: 'two positions, keys split' },
    { B: 1, T: 3000, NH: 1, NKV: 1, HD: 4, past: 0, S: 3000, why: 'P over the scratch budget: row chunks' },
    { B: 2, T: 1500, NH: 2, NKV: 1, HD: 4, past: 500, S: 2000, why: 'row chunks after a cache, B > 1' },
  ])('attentionForward B=$B T=$T NH=$NH NKV=$NKV HD=$HD past=$past S=$S ($why)', async ({ B, T, NH, NKV, HD, past, S }) => {
    const q = randomF32(B * T * NH * HD, 31, 2);
    const k = randomF32(B * S * NKV * HD, 32, 2);
    const v = randomF32(B * S * NKV * HD, 33);
    const expected = new Float32Array(B * T * NH * HD);
    refAttention(expected, q, k, v, B, T, NH, NKV, HD, past, S);
    const ts = [be.upload(q, [B, T, NH, HD]), be.upload(k, [B, S, NKV, HD]), be.upload(v, [B, S, NKV, HD])] as const;
    const out = be.empty([B, T, NH, HD]);
    be.attentionForward(out, ...ts, B, T, NH, NKV, HD, past, S);
    checkTensor(await be.download(out), expected, 'webgpu attention', tol);
    for (const t of [...ts, out]) be.dispose(t);
  });
});

// One invocation per row (kernels/webgpu/rmsnorm.wgsl.ts): row counts across several workgroups of 64, vec4 and
// scalar rows. Tolerance as the suite's norm group.
describe('webgpu rmsnorm rows across workgroups against ref', () => {
  let be: WebGPUBackend;
  beforeAll(async () => {
    be = await createNodeWebGPUBackend();
  });
  afterAll(() => be?.destroy());

  it.each([
    { N: 130, C: 36 },
    { N: 200, C: 7 },
    { N: 1, C: 2560 },
  ])('rmsnorm N=$N C=$C', async ({ N, C }) => {
    const x = randomF32(N * C, 41, 3);
    const w = randomF32(C, 42, 2);
    const expected = new Float32Array(N * C);
    refRmsnormRows(expected, x, w, N, C, 1e-6);
    const [tx, tw, out] = [be.upload(x, [N, C]), be.upload(w, [C]), be.empty([N, C])];
    be.rmsnormForward(out, tx, tw, 1, N, C, 1e-6);
    checkTensor(await be.download(out), expected, 'webgpu rmsnorm', { abs: 1e-5, rel: 1e-5 });
    for (const t of [tx, tw, out]) be.dispose(t);
  });
});

// RoPE with ROPE_ROWS rows per invocation (kernels/webgpu/rope.wgsl.ts): row blocks that straddle heads, positions and
// batch entries. Tolerance as the suite's rope group.
describe('webgpu rope row blocks against ref', () => {
  let be: WebGPUBackend;
  beforeAll(async () => {
    be = await createNodeWebGPUBackend();
  });
  afterAll(() => be?.destroy());

  it.each([
    { B: 2, T: 9, NH: 5, HD: 6, past: 3 },
    { B: 1, T: 40, NH: 16, HD: 128, past: 0 },
  ])('ropeForward B=$B T=$T NH=$NH HD=$HD past=$past', async ({ B, T, NH, HD, past }) => {
    const n = B * T * NH * HD;
    const x = randomF32(n, 51, 2);
    const expected = new Float32Array(n);
    refRope(expected, x, B, T, NH, HD, past, 1e6);
    const [tx, out] = [be.upload(x, [B, T, NH, HD]), be.empty([B, T, NH, HD])];
    be.ropeForward(out, tx, B, T, NH, HD, past, 1e6);
    checkTensor(await be.download(out), expected, 'webgpu rope', { abs: 1e-6, rel: 1e-6 });
    for (const t of [tx, out]) be.dispose(t);
  });
});

// The layouts a GPU adapter gets (GpuContext with cpu = false), run here on lavapipe all the same: rmsnorm's
// workgroup-per-row reduction and attention's split-K at the GPU invocation target.
describe('webgpu GPU-adapter layouts against ref', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = new GpuContext((await requestGpuDevice(nodeGpu())).device, false);
  });
  afterAll(() => ctx?.destroy());
  const gpuBuf = (data: Float32Array): GPUBuffer => ctx.createBuffer(data.byteLength, 'test', data);
  const read = async (b: GPUBuffer, n: number): Promise<Float32Array> => new Float32Array(await ctx.read(b, n * 4));

  it.each([
    { N: 3, C: 2560 },
    { N: 5, C: 301 },
    { N: 70, C: 64 },
  ])('rmsnorm N=$N C=$C', async ({ N, C }) => {
    const x = randomF32(N * C, 61, 3);
    const w = randomF32(C, 62, 2);
    const expected = new Float32Array(N * C);
    refRmsnormRows(expected, x, w, N, C, 1e-6);
    const out = ctx.createBuffer(N * C * 4, 'out');
    rmsnorm(ctx, out, gpuBuf(x), gpuBuf(w), N, C, 1e-6);
    checkTensor(await read(out, N * C), expected, 'webgpu rmsnorm (gpu layout)', { abs: 1e-5, rel: 1e-5 });
  });

  it.each([
    { B: 1, T: 1, NH: 32, NKV: 8, HD: 128, past: 1023, S: 1024 },
    { B: 2, T: 3, NH: 16, NKV: 8, HD: 64, past: 300, S: 303 },
  ])('attention B=$B T=$T NH=$NH NKV=$NKV HD=$HD past=$past S=$S', async ({ B, T, NH, NKV, HD, past, S }) => {
    const q = randomF32(B * T * NH * HD, 63, 2);
    const k = randomF32(B * S * NKV * HD, 64, 2);
    const v = randomF32(B * S * NKV * HD, 65);
    const expected = new Float32Array(B * T * NH * HD);
    refAttention(expected, q, k, v, B, T, NH, NKV, HD, past, S);
    const out = ctx.createBuffer(expected.byteLength, 'out');
    attention(ctx, out, gpuBuf(q), gpuBuf(k), gpuBuf(v), B, T, NH, NKV, HD, past, S);
    checkTensor(await read(out, expected.length), expected, 'webgpu attention (gpu layout)', { abs: 1e-5, rel: 1e-5 });
  });
});

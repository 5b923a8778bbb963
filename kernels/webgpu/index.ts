/**
 * `WebGPUBackend`: WGSL compute shaders, one `<op>.wgsl.ts` (shader source) + `<op>.ts` (dispatch) per op, run through
 * any WebGPU implementation — Dawn on Node (node-device.ts), navigator.gpu in browsers and Deno. Runtime-agnostic:
 * the caller supplies the `GPU` object.
 *
 * Tensors are storage buffers; bf16 tensors hold their raw 16-bit values packed two per u32 (padded to 4 bytes) and
 * are widened in the shaders. Ops are recorded into one command encoder and submitted at the next download/sync.
 * Workgroups stay ≤ 256 invocations (SwiftShader's cap); `shader-f16` and `subgroups` are requested only when the
 * adapter has them (no kernel relies on them yet).
 * It also implements the training `BackwardOps` (core/compute/backward.ts): one `<op>-backward.wgsl.ts` +
 * `<op>-backward.ts` per op, without atomics (each gradient element is written by the one invocation that reduces it).
 *
 * @example
 *   const be = await createWebGPUBackend(navigator.gpu);
 *   be.matmulForward(out, inp, weight, B, T, C, OC);
 *   const y = await be.download(out);
 */
import type { ComputeBackend, DType, HostArray, Tensor, Weight } from '../../core/compute/backend.ts';
import { checkBackwardOp, type BackwardOps } from '../../core/compute/backward.ts';
import { TensorBase } from '../../core/compute/tensor.ts';
import * as v from '../../core/compute/validate.ts';
import type { GrailProfile } from '../../core/protocol/sketch.ts';
import { attention } from './attention.ts';
import { attentionBackward } from './attention-backward.ts';
import { GpuContext } from './context.ts';
import { requestGpuDevice, type GpuDeviceInfo } from './device.ts';
import { elementwise } from './elementwise.ts';
import { elementwiseBackward } from './elementwise-backward.ts';
import { embedding } from './embedding.ts';
import { embeddingBackward } from './embedding-backward.ts';
import { lmHeadLogprobs, lmHeadProbs } from './lmhead.ts';
import { lmHeadLogprobsBackward } from './lmhead-backward.ts';
import { matmul } from './matmul.ts';
import { matmulBackward } from './matmul-backward.ts';
import { rmsnorm } from './rmsnorm.ts';
import { rmsnormBackward } from './rmsnorm-backward.ts';
import { RopeDispatch } from './rope.ts';
import { sketch } from './sketch.ts';

export { NO_ADAPTER_MESSAGE } from './device.ts';

class GpuTensor<D extends DType = DType> extends TensorBase<D> {
  constructor(shape: readonly number[], dtype: D, readonly buffer: GPUBuffer) {
    super('webgpu', shape, dtype);
  }

  get bytes(): number {
    return this.size * (this.dtype === 'f32' ? 4 : 2);
  }
}

function buf(t: Tensor): GPUBuffer {
  return (t as GpuTensor).buffer;
}

export class WebGPUBackend implements ComputeBackend, BackwardOps {
  readonly name = 'webgpu';
  private readonly ctx: GpuContext;
  private readonly rope: RopeDispatch;
  private destroyed = false;

  constructor(readonly info: GpuDeviceInfo) {
    this.ctx = new GpuContext(info.device, info.cpu);
    this.rope = new RopeDispatch(this.ctx);
  }

  private alive(op: string): void {
    if (this.destroyed) throw new Error(`webgpu.${op}: the backend was destroyed`);
  }

  empty<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D): Tensor<D> {
    this.alive('empty');
    const size = v.checkShape('empty', shape);
    return new GpuTensor(shape, dtype, this.ctx.createBuffer(size * (dtype === 'bf16' ? 2 : 4), `${dtype}[${shape.join(',')}]`));
  }

  upload(data: Float32Array, shape: readonly number[]): Tensor<'f32'>;
  upload(data: Uint16Array, shape: readonly number[]): Tensor<'bf16'>;
  upload(data: Float32Array | Uint16Array, shape: readonly number[]): Tensor {
    this.alive('upload');
    v.checkShape('upload', shape, data.length);
    const dtype: DType = data instanceof Float32Array ? 'f32' : 'bf16';
    return new GpuTensor(shape, dtype, this.ctx.createBuffer(data.byteLength, `${dtype}[${shape.join(',')}]`, data));
  }

  async download<D extends DType>(t: Tensor<D>): Promise<HostArray<D>> {
    this.alive('download');
    v.checkOwned('download', this.name, t);
    const gt = t as unknown as GpuTensor<D>;
    const bytes = await this.ctx.read(gt.buffer, gt.bytes);
    return (t.dtype === 'f32' ? new Float32Array(bytes) : new Uint16Array(bytes)) as HostArray<D>;
  }

  dispose(t: Tensor): void {
    if (t.disposed) return;
    v.checkOwned('dispose', this.name, t);
    (t as GpuTensor).disposed = true;
    this.ctx.release(buf(t));
  }

  async sync(): Promise<void> {
    this.alive('sync');
    await this.ctx.sync();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.ctx.destroy();
  }

  embeddingForward(out: Tensor<'f32'>, tokens: Int32Array, wte: Weight, B: number, T: number, C: number): void {
    v.checkEmbedding(this.name, out, tokens, wte, B, T, C);
    embedding(this.ctx, buf(out), tokens, buf(wte), wte.dtype, B, T, C);
  }

  rmsnormForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Tensor<'f32'>, B: number, T: number, C: number, eps: number): void {
    v.checkRmsnorm(this.name, out, inp, weight, B, T, C, eps);
    rmsnorm(this.ctx, buf(out), buf(inp), buf(weight), B * T, C, eps);
  }

  matmulForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Weight, B: number, T: number, C: number, OC: number): void {
    v.checkMatmul(this.name, out, inp, weight, B, T, C, OC);
    matmul(this.ctx, buf(out), buf(inp), buf(weight), weight.dtype, B * T, C, OC);
  }

  ropeForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, B: number, T: number, NH: number, HD: number, past: number, theta: number): void {
    v.checkRope(this.name, out, inp, B, T, NH, HD, past, theta);
    this.rope.run(buf(out), buf(inp), B, T, NH, HD, past, theta);
  }

  qkNormForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Tensor<'f32'>, B: number, T: number, NH: number, HD: number, eps: number): void {
    v.checkQkNorm(this.name, out, inp, weight, B, T, NH, HD, eps);
    rmsnorm(this.ctx, buf(out), buf(inp), buf(weight), B * T * NH, HD, eps);
  }

  kvCacheWrite(cache: Tensor<'f32'>, kv: Tensor<'f32'>, B: number, T: number, NKV: number, HD: number, past: number, S: number): void {
    v.checkKvCacheWrite(this.name, cache, kv, B, T, NKV, HD, past, S);
    const row = NKV * HD * 4;
    for (let b = 0; b < B; b++) this.ctx.copy(buf(kv), b * T * row, buf(cache), (b * S + past) * row, T * row);
  }

  attentionForward(
    out: Tensor<'f32'>, q: Tensor<'f32'>, k: Tensor<'f32'>, vv: Tensor<'f32'>,
    B: number, T: number, NH: number, NKV: number, HD: number, past: number, S: number,
  ): void {
    v.checkAttention(this.name, out, q, k, vv, B, T, NH, NKV, HD, past, S);
    attention(this.ctx, buf(out), buf(q), buf(k), buf(vv), B, T, NH, NKV, HD, past, S);
  }

  swigluForward(out: Tensor<'f32'>, gate: Tensor<'f32'>, up: Tensor<'f32'>, N: number): void {
    v.checkElementwise('swigluForward', this.name, out, ['gate', gate], ['up', up], N);
    elementwise(this.ctx, 'swiglu', buf(out), buf(gate), buf(up), N);
  }

  residualForward(out: Tensor<'f32'>, inp1: Tensor<'f32'>, inp2: Tensor<'f32'>, N: number): void {
    v.checkElementwise('residualForward', this.name, out, ['inp1', inp1], ['inp2', inp2], N);
    elementwise(this.ctx, 'residual', buf(out), buf(inp1), buf(inp2), N);
  }

  lmHeadLogprobsForward(
    out: Tensor<'f32'>, inp: Tensor<'f32'>, wte: Weight, targets: Int32Array, B: number, T: number, C: number, V: number,
  ): void {
    v.checkLmHead(this.name, out, inp, wte, targets, B, T, C, V);
    lmHeadLogprobs(this.ctx, buf(out), buf(inp), buf(wte), wte.dtype, targets, B * T, C, V);
  }

  lmHeadProbsForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, wte: Weight, R: number, C: number, V: number): void {
    v.checkLmHeadProbs(this.name, out, inp, wte, R, C, V);
    lmHeadProbs(this.ctx, buf(out), buf(inp), buf(wte), wte.dtype, R, C, V);
  }

  sketchForward(
    hidden: Tensor<'f32'>, r: ArrayLike<number>, B: number, T: number, C: number, grail: GrailProfile,
  ): Promise<Int32Array> {
    this.alive('sketchForward');
    v.checkSketch(this.name, hidden, r, B, T, C, grail);
    return sketch(this.ctx, buf(hidden), r, B * T, C, grail);
  }

  // ---- backward ops (core/compute/backward.ts; one <op>-backward.wgsl.ts + <op>-backward.ts each, no atomics) ------

  embeddingBackward(dwte: Tensor<'f32'>, dout: Tensor<'f32'>, tokens: Int32Array, B: number, T: number, C: number): void {
    this.alive('embeddingBackward');
    checkBackwardOp.embedding(this.name, dwte, dout, tokens, B, T, C);
    embeddingBackward(this.ctx, buf(dwte), buf(dout), tokens, C);
  }

  rmsnormBackward(
    dinp: Tensor<'f32'>, dweight: Tensor<'f32'>, dout: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Tensor<'f32'>,
    B: number, T: number, C: number, eps: number,
  ): void {
    this.alive('rmsnormBackward');
    checkBackwardOp.norm('rmsnormBackward', this.name, dinp, dweight, dout, inp, weight, B * T, C, { B, T, C });
    rmsnormBackward(this.ctx, buf(dinp), buf(dweight), buf(dout), buf(inp), buf(weight), B * T, C, eps);
  }

  matmulBackward(
    dinp: Tensor<'f32'>, dweight: Tensor<'f32'>, dout: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Weight,
    B: number, T: number, C: number, OC: number,
  ): void {
    this.alive('matmulBackward');
    checkBackwardOp.matmul(this.name, dinp, dweight, dout, inp, weight, B, T, C, OC);
    matmulBackward(this.ctx, buf(dinp), buf(dweight), buf(dout), buf(inp), buf(weight), weight.dtype, B * T, C, OC);
  }

  ropeBackward(dinp: Tensor<'f32'>, dout: Tensor<'f32'>, B: number, T: number, NH: number, HD: number, past: number, theta: number): void {
    this.alive('ropeBackward');
    checkBackwardOp.rope(this.name, dinp, dout, B, T, NH, HD, past, theta);
    this.rope.runBackward(buf(dinp), buf(dout), B, T, NH, HD, past, theta);
  }

  qkNormBackward(
    dinp: Tensor<'f32'>, dweight: Tensor<'f32'>, dout: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Tensor<'f32'>,
    B: number, T: number, NH: number, HD: number, eps: number,
  ): void {
    this.alive('qkNormBackward');
    checkBackwardOp.norm('qkNormBackward', this.name, dinp, dweight, dout, inp, weight, B * T * NH, HD, { B, T, NH, HD });
    rmsnormBackward(this.ctx, buf(dinp), buf(dweight), buf(dout), buf(inp), buf(weight), B * T * NH, HD, eps);
  }

  attentionBackward(
    dq: Tensor<'f32'>, dk: Tensor<'f32'>, dv: Tensor<'f32'>, dout: Tensor<'f32'>,
    q: Tensor<'f32'>, k: Tensor<'f32'>, vv: Tensor<'f32'>, B: number, T: number, NH: number, NKV: number, HD: number,
  ): void {
    this.alive('attentionBackward');
    checkBackwardOp.attention(this.name, dq, dk, dv, dout, q, k, vv, B, T, NH, NKV, HD);
    attentionBackward(this.ctx, buf(dq), buf(dk), buf(dv), buf(dout), buf(q), buf(k), buf(vv), B, T, NH, NKV, HD);
  }

  swigluBackward(dgate: Tensor<'f32'>, dup: Tensor<'f32'>, dout: Tensor<'f32'>, gate: Tensor<'f32'>, up: Tensor<'f32'>, N: number): void {
    this.alive('swigluBackward');
    checkBackwardOp.elementwise('swigluBackward', this.name, [['dgate', dgate], ['dup', dup], ['dout', dout], ['gate', gate], ['up', up]], 2, N);
    elementwiseBackward(this.ctx, 'swiglu', buf(dgate), buf(dup), buf(dout), [buf(gate), buf(up)], N);
  }

  residualBackward(dinp1: Tensor<'f32'>, dinp2: Tensor<'f32'>, dout: Tensor<'f32'>, N: number): void {
    this.alive('residualBackward');
    checkBackwardOp.elementwise('residualBackward', this.name, [['dinp1', dinp1], ['dinp2', dinp2], ['dout', dout]], 2, N);
    elementwiseBackward(this.ctx, 'residual', buf(dinp1), buf(dinp2), buf(dout), [], N);
  }

  lmHeadLogprobsBackward(
    dinp: Tensor<'f32'>, dwte: Tensor<'f32'>, dlogprobs: Tensor<'f32'>, inp: Tensor<'f32'>, wte: Weight,
    targets: Int32Array, B: number, T: number, C: number, V: number,
  ): void {
    this.alive('lmHeadLogprobsBackward');
    checkBackwardOp.lmHead(this.name, dinp, dwte, dlogprobs, inp, wte, targets, B, T, C, V);
    lmHeadLogprobsBackward(this.ctx, buf(dinp), buf(dwte), buf(dlogprobs), buf(inp), buf(wte), wte.dtype, targets, B * T, C, V);
  }
}

/** Acquires an adapter and device from `gpu` (navigator.gpu, or Dawn's on Node) and returns a backend over it. */
export async function createWebGPUBackend(gpu: GPU | undefined, options?: GPURequestAdapterOptions): Promise<WebGPUBackend> {
  return new WebGPUBackend(await requestGpuDevice(gpu, options));
}

/**
 * `WasmBackend`: the fast CPU path. Kernels are AssemblyScript compiled to WASM with SIMD (kernels/wasm/assembly);
 * tensors live in the module's linear memory, handed out by a small allocator on this side (bump pointer + exact-size
 * free lists, growing the memory as needed). Runtime-agnostic: the host supplies the module's bytes
 * (`kernels/wasm/node.ts` reads them from disk on Node; a browser would `fetch` them).
 *
 * It also implements the training `BackwardOps` (core/compute/backward.ts; kernels in assembly/backward.ts).
 *
 * Threads: `createThreadedWasmBackend` runs the same kernels on several threads over one shared memory
 * (kernels-threads.wasm; kernels/wasm/threads.ts). The heavy ops (matmul, attention, the LM head, the backward GEMMs,
 * the elementwise ops over large inputs) split their outputs over the threads and equal the single-thread results bit
 * for bit; small ops (decode-sized) run on the calling thread alone, where waking the helpers would cost more.
 *
 * Limits: wasm32 addresses 4 GiB, so every tensor together must fit in 4 GiB (a Qwen3-4B in bf16 does not).
 *
 * @example
 *   const be = await createWasmBackend(bytes);
 *   be.matmulForward(out, inp, weight, B, T, C, OC);
 */
import type { ComputeBackend, DType, HostArray, Tensor, Weight } from '../../core/compute/backend.ts';
import { checkBackwardOp, type BackwardOps } from '../../core/compute/backward.ts';
import { ropeTable } from '../../core/compute/rope.ts';
import { sketchConstants } from '../../core/compute/sketch.ts';
import type { GrailProfile } from '../../core/protocol/sketch.ts';
import { TensorBase } from '../../core/compute/tensor.ts';
import * as v from '../../core/compute/validate.ts';
import { CONTROL_BYTES, KernelThreadPool, MAX_CHUNKS, splitRange, type ChunkScratch, type SpawnKernelThread } from './threads.ts';

/** The exports of kernels.wasm (see kernels/wasm/assembly/index.ts). Pointers are byte offsets. */
interface KernelExports {
  memory: WebAssembly.Memory;
  PACK_BYTES: WebAssembly.Global;
  heapBase(): number;
  matmul(out: number, inp: number, w: number, N: number, C: number, OC: number, wBf16: number, scratch: number): void;
  matmulRange(out: number, inp: number, w: number, N: number, C: number, OC: number, wBf16: number, scratch: number, o0: number, o1: number): void;
  rmsnorm(out: number, inp: number, weight: number, N: number, C: number, eps: number): void;
  rope(out: number, inp: number, cos: number, sin: number, B: number, T: number, NH: number, HD: number): void;
  attention(
    out: number, q: number, k: number, v: number,
    B: number, T: number, NH: number, NKV: number, HD: number, past: number, S: number, scores: number,
  ): void;
  attentionRange(
    out: number, q: number, k: number, v: number,
    B: number, T: number, NH: number, NKV: number, HD: number, past: number, S: number, scores: number, i0: number, i1: number,
  ): void;
  swiglu(out: number, gate: number, up: number, N: number): void;
  residual(out: number, inp1: number, inp2: number, N: number): void;
  widenBf16(out: number, inp: number, N: number): void;
  zero(p: number, bytes: number): void;
  lseInit(state: number, N: number): void;
  lseUpdate(state: number, logits: number, targets: number, N: number, VC: number, v0: number): void;
  lseFinish(out: number, state: number, N: number): void;
  softmaxRows(x: number, R: number, V: number): void;
  sketch(out: number, hidden: number, consts: number, N: number, C: number, K: number, NT: number, Q: number, scratch: number): void;
  // backward (assembly/backward.ts)
  GEMM_ACC_PACK_BYTES: WebAssembly.Global;
  gemmAcc(out: number, a: number, aI: number, aK: number, b: number, bBf16: number, M: number, K: number, C: number, scratch: number): void;
  gemmAccRange(
    out: number, a: number, aI: number, aK: number, b: number, bBf16: number, M: number, K: number, C: number, scratch: number,
    c0: number, c1: number,
  ): void;
  rmsnormBackward(dinp: number, dweight: number, dout: number, inp: number, weight: number, N: number, C: number, eps: number): void;
  ropeBackward(dinp: number, dout: number, cos: number, sin: number, B: number, T: number, NH: number, HD: number): void;
  attentionBackward(
    dq: number, dk: number, dv: number, dout: number, q: number, k: number, v: number,
    B: number, T: number, NH: number, NKV: number, HD: number, scratch: number,
  ): void;
  attentionBackwardRange(
    dq: number, dk: number, dv: number, dout: number, q: number, k: number, v: number,
    B: number, T: number, NH: number, NKV: number, HD: number, scratch: number, g0: number, g1: number,
  ): void;
  swigluBackward(dgate: number, dup: number, dout: number, gate: number, up: number, N: number): void;
  residualBackward(dinp1: number, dinp2: number, dout: number, N: number): void;
  embeddingBackward(dwte: number, dout: number, tokens: number, N: number, C: number): void;
  lmHeadDlogits(logits: number, state: number, dlogprobs: number, targets: number, N: number, VC: number, v0: number): void;
}

/** Logits held at once by lmHeadLogprobsForward: a (B·T) × VC chunk of at most this many floats (4 MiB). */
const LM_HEAD_CHUNK_FLOATS = 1 << 20;

/**
 * Work (≈ FLOPs; 16 per element for the elementwise ops) below which an op runs on the calling thread alone: waking
 * the helpers costs some tens of µs, about what 1–2 MFLOP take on one core.
 */
const PAR_MIN_WORK = 1 << 21;

/**
 * Chunks per thread of a split op (threads claim them as they go, kernels/wasm/threads.ts): enough that a late or
 * slow thread's share is taken over by the others, few enough that each chunk still streams a long panel.
 */
const CHUNKS_PER_THREAD = 4;

const PAGE = 65536;
const ALIGN = 64;
const MAX_BYTES = 65536 * PAGE; // wasm32: 4 GiB

/**
 * Linear-memory allocator: a bump pointer over [heapBase, ∞) and, for freed blocks, one free list per (aligned) size —
 * a model allocates the same few activation sizes over and over, so exact-size reuse is all it needs.
 */
class Arena {
  private top: number;
  private readonly free = new Map<number, number[]>();
  constructor(private readonly memory: WebAssembly.Memory, heapBase: number) {
    this.top = Math.ceil(heapBase / ALIGN) * ALIGN;
  }

  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) return reused;
    const ptr = this.top;
    const end = ptr + size;
    if (end > MAX_BYTES) {
      throw new Error(
        `wasm: out of memory: a ${(bytes / 2 ** 20).toFixed(1)} MiB tensor does not fit in the 4 GiB of wasm32 ` +
          `(${(ptr / 2 ** 20).toFixed(0)} MiB in use); use a smaller model or another backend`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return ptr;
  }

  release(ptr: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
  }

  /** Bytes of linear memory handed out so far (peak). */
  get used(): number {
    return this.top;
  }
}

class WasmTensor<D extends DType = DType> extends TensorBase<D> {
  constructor(shape: readonly number[], dtype: D, readonly ptr: number, readonly bytes: number) {
    super('wasm', shape, dtype);
  }
}

function ptr(t: Tensor): number {
  return (t as WasmTensor).ptr;
}

type Export = keyof KernelExports;

/** Exports the threads call on sub-ranges by offsetting their pointers (no `…Range` variant needed). */
const RANGE_FREE = {
  rmsnorm: 1, rope: 1, swiglu: 1, residual: 1, softmaxRows: 1, lseUpdate: 1, lmHeadDlogits: 1, swigluBackward: 1,
  residualBackward: 1, ropeBackward: 1,
} as const;

export class WasmBackend implements ComputeBackend, BackwardOps {
  readonly name = 'wasm';
  private readonly arena: Arena;
  /** Matmul packing scratch, one per thread (thread t's at + t · PACK_BYTES). */
  private readonly scratch: number;
  /** Packing scratch of the backward's gemmAcc, one per thread, allocated on first use (inference never needs it). */
  private gemmScratch = 0;
  private destroyed = false;
  private pool: KernelThreadPool | undefined;
  /** The last RoPE table (cos then sin, in linear memory): a forward asks for the same one twice per layer. */
  private rope: { key: string; ptr: number; bytes: number } | undefined;
  /** Control block of the thread pool (0 when single-threaded). */
  private readonly ctrl: number = 0;

  /** `threads` > 1 only over a shared memory (kernels-threads.wasm); `startThreads` then starts the helpers. */
  constructor(private readonly k: KernelExports, readonly threads = 1, private readonly minWork = PAR_MIN_WORK) {
    this.arena = new Arena(k.memory, k.heapBase());
    this.scratch = this.arena.alloc(threads * (k.PACK_BYTES.value as number));
    if (threads > 1) this.ctrl = this.arena.alloc(CONTROL_BYTES);
  }

  /** Starts the helper threads (see createThreadedWasmBackend). */
  async startThreads(module: WebAssembly.Module, spawn: SpawnKernelThread): Promise<void> {
    if (this.threads < 2 || this.pool) return;
    const names = (Object.keys(this.k) as string[]).filter((n) => n.endsWith('Range') || n in RANGE_FREE);
    this.pool = await KernelThreadPool.start(module, this.k.memory, this.ctrl, this.threads - 1, spawn, names);
  }

  /**
   * Runs export `name` over [0, total): on this thread alone (one call, `args(0, total)`) when single-threaded or
   * under minWork, else once per chunk [lo, hi) (inner boundaries multiples of `align`), `args(lo, hi)` giving its
   * arguments, the chunks claimed by the threads as they go. With `scratch`, argument `scratch.arg` is replaced by
   * the running thread's scratch (thread t: base + t · stride).
   */
  private par(name: Export, total: number, align: number, work: number, args: (lo: number, hi: number) => number[], scratch?: ChunkScratch): void {
    const fn = this.k[name] as unknown as (...a: number[]) => void;
    if (!this.pool || work < this.minWork || total <= align) {
      const a = args(0, total);
      if (scratch) a[scratch.arg] = scratch.base;
      fn(...a);
      return;
    }
    const chunks = splitRange(total, Math.min(MAX_CHUNKS, this.pool.size * CHUNKS_PER_THREAD), align).map(([lo, hi]) => args(lo, hi));
    this.pool.run(name, chunks, scratch, fn);
  }

  /** out (N,OC) = inp (N,C) · wᵀ over the threads (split by out-channels). */
  private matmul(out: number, inp: number, w: number, N: number, C: number, OC: number, wBf16: number): void {
    this.par('matmulRange', OC, 8, 2 * N * C * OC, (lo, hi) => [out, inp, w, N, C, OC, wBf16, 0, lo, hi], this.matmulScratch());
  }

  /** Where `matmulRange` (argument 7) takes the running thread's packing scratch. */
  private matmulScratch(): ChunkScratch {
    return { arg: 7, base: this.scratch, stride: this.k.PACK_BYTES.value as number };
  }

  /** An elementwise kernel `name(...ptrs, N)` split by elements (ptrs of f32 arrays). */
  private elementwise(name: Export, ptrs: number[], N: number): void {
    this.par(name, N, 16, N * 16, (lo, hi) => [...ptrs.map((p) => p + lo * 4), hi - lo]);
  }

  /** RoPE forward or backward (same argument layout), split by sequences, or by positions when there is one. */
  private ropeOp(name: 'rope' | 'ropeBackward', out: number, inp: number, cos: number, sin: number, B: number, T: number, NH: number, HD: number): void {
    const work = B * T * NH * HD * 16;
    if (B > 1) {
      const seq = T * NH * HD * 4;
      this.par(name, B, 1, work, (lo, hi) => [out + lo * seq, inp + lo * seq, cos, sin, hi - lo, T, NH, HD]);
    } else {
      const row = NH * HD * 4, tab = (HD / 2) * 4;
      this.par(name, T, 1, work, (lo, hi) => [out + lo * row, inp + lo * row, cos + lo * tab, sin + lo * tab, 1, hi - lo, NH, HD]);
    }
  }

  /** Pointer of the RoPE cos table (P, HD/2) of positions past … past+T−1, the sin table right after it. */
  private ropeTablePtr(HD: number, theta: number, past: number, T: number): number {
    const key = `${HD} ${theta} ${past} ${T}`;
    if (this.rope?.key === key) return this.rope.ptr;
    if (this.rope) this.arena.release(this.rope.ptr, this.rope.bytes);
    const { cos, sin } = ropeTable(HD, theta, past, T);
    const p = this.arena.alloc(cos.byteLength * 2);
    this.f32View(p, cos.length).set(cos);
    this.f32View(p + cos.byteLength, sin.length).set(sin);
    this.rope = { key, ptr: p, bytes: cos.byteLength * 2 };
    return p;
  }

  /** Bytes of linear memory in use (peak), for reports. */
  get memoryBytes(): number {
    return this.arena.used;
  }

  private alive(op: string): void {
    if (this.destroyed) throw new Error(`wasm.${op}: the backend was destroyed`);
  }

  private f32View(p: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, p, n);
  }

  /** Runs fn with a temporary block of `bytes`, freed afterwards. */
  private withTemp<R>(bytes: number, fn: (p: number) => R): R {
    const p = this.arena.alloc(bytes);
    try {
      return fn(p);
    } finally {
      this.arena.release(p, bytes);
    }
  }

  empty<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D): Tensor<D> {
    this.alive('empty');
    const size = v.checkShape('empty', shape);
    const bytes = size * (dtype === 'bf16' ? 2 : 4);
    const t = new WasmTensor(shape, dtype, this.arena.alloc(bytes), bytes);
    this.k.zero(t.ptr, bytes);
    return t;
  }

  upload(data: Float32Array, shape: readonly number[]): Tensor<'f32'>;
  upload(data: Uint16Array, shape: readonly number[]): Tensor<'bf16'>;
  upload(data: Float32Array | Uint16Array, shape: readonly number[]): Tensor {
    this.alive('upload');
    v.checkShape('upload', shape, data.length);
    const dtype: DType = data instanceof Float32Array ? 'f32' : 'bf16';
    const t = new WasmTensor(shape, dtype, this.arena.alloc(data.byteLength), data.byteLength);
    new Uint8Array(this.k.memory.buffer, t.ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return t;
  }

  async download<D extends DType>(t: Tensor<D>): Promise<HostArray<D>> {
    v.checkOwned('download', this.name, t);
    const wt = t as unknown as WasmTensor<D>;
    const buf = this.k.memory.buffer;
    return (t.dtype === 'f32' ? new Float32Array(buf, wt.ptr, t.size).slice() : new Uint16Array(buf, wt.ptr, t.size).slice()) as HostArray<D>;
  }

  dispose(t: Tensor): void {
    if (t.disposed) return;
    v.checkOwned('dispose', this.name, t);
    const wt = t as WasmTensor;
    wt.disposed = true;
    this.arena.release(wt.ptr, wt.bytes);
  }

  async sync(): Promise<void> {}

  destroy(): void {
    this.destroyed = true;
    this.pool?.close();
    this.pool = undefined;
  }

  embeddingForward(out: Tensor<'f32'>, tokens: Int32Array, wte: Weight, B: number, T: number, C: number): void {
    v.checkEmbedding(this.name, out, tokens, wte, B, T, C);
    const mem = this.k.memory.buffer;
    const o = ptr(out);
    for (let i = 0; i < B * T; i++) {
      if (wte.dtype === 'bf16') {
        this.k.widenBf16(o + i * C * 4, ptr(wte) + tokens[i]! * C * 2, C);
      } else {
        new Float32Array(mem, o + i * C * 4, C).set(new Float32Array(mem, ptr(wte) + tokens[i]! * C * 4, C));
      }
    }
  }

  rmsnormForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Tensor<'f32'>, B: number, T: number, C: number, eps: number): void {
    v.checkRmsnorm(this.name, out, inp, weight, B, T, C, eps);
    this.rmsnorm(ptr(out), ptr(inp), ptr(weight), B * T, C, eps);
  }

  /** RMSNorm of N rows of C, split by rows. */
  private rmsnorm(out: number, inp: number, weight: number, N: number, C: number, eps: number): void {
    this.par('rmsnorm', N, 1, N * C * 16, (lo, hi) => [out + lo * C * 4, inp + lo * C * 4, weight, hi - lo, C, eps]);
  }

  matmulForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Weight, B: number, T: number, C: number, OC: number): void {
    v.checkMatmul(this.name, out, inp, weight, B, T, C, OC);
    this.matmul(ptr(out), ptr(inp), ptr(weight), B * T, C, OC, weight.dtype === 'bf16' ? 1 : 0);
  }

  matmulForwardShared(outs: readonly Tensor<'f32'>[], inp: Tensor<'f32'>, weights: readonly Weight[], B: number, T: number, C: number, OCs: readonly number[]): void {
    if (outs.length !== weights.length || outs.length !== OCs.length || outs.length === 0) {
      throw new Error(`${this.name}.matmulForwardShared: ${outs.length} outputs, ${weights.length} weights and ${OCs.length} widths (one each, at least one)`);
    }
    outs.forEach((o, i) => v.checkMatmul(this.name, o, inp, weights[i]!, B, T, C, OCs[i]!));
    const N = B * T;
    const total = OCs.reduce((a, b) => a + b, 0);
    if (!this.pool || 2 * N * C * total < this.minWork) {
      outs.forEach((o, i) => this.matmul(ptr(o), ptr(inp), ptr(weights[i]!), N, C, OCs[i]!, weights[i]!.dtype === 'bf16' ? 1 : 0));
      return;
    }
    // each weight's out-channels cut into a share of the chunks proportional to its width; every chunk is a plain
    // matmulRange of one weight, so each output element is reduced exactly as matmulForward reduces it
    const want = Math.min(MAX_CHUNKS, this.pool.size * CHUNKS_PER_THREAD * outs.length);
    const chunks = outs.flatMap((o, i) => {
      const OC = OCs[i]!;
      const parts = Math.max(1, Math.min(Math.floor(want / outs.length), Math.round((want * OC) / total)));
      return splitRange(OC, parts, 8).map(([lo, hi]) => [ptr(o), ptr(inp), ptr(weights[i]!), N, C, OC, weights[i]!.dtype === 'bf16' ? 1 : 0, 0, lo, hi]);
    });
    this.pool.run('matmulRange', chunks, this.matmulScratch(), this.k.matmulRange as unknown as (...a: number[]) => void);
  }

  ropeForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, B: number, T: number, NH: number, HD: number, past: number, theta: number): void {
    v.checkRope(this.name, out, inp, B, T, NH, HD, past, theta);
    const p = this.ropeTablePtr(HD, theta, past, T);
    this.ropeOp('rope', ptr(out), ptr(inp), p, p + T * HD * 2, B, T, NH, HD);
  }

  qkNormForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Tensor<'f32'>, B: number, T: number, NH: number, HD: number, eps: number): void {
    v.checkQkNorm(this.name, out, inp, weight, B, T, NH, HD, eps);
    this.rmsnorm(ptr(out), ptr(inp), ptr(weight), B * T * NH, HD, eps);
  }

  kvCacheWrite(cache: Tensor<'f32'>, kv: Tensor<'f32'>, B: number, T: number, NKV: number, HD: number, past: number, S: number): void {
    v.checkKvCacheWrite(this.name, cache, kv, B, T, NKV, HD, past, S);
    const row = NKV * HD;
    const heap = new Float32Array(this.k.memory.buffer);
    const c = ptr(cache) / 4;
    const x = ptr(kv) / 4;
    for (let b = 0; b < B; b++) heap.copyWithin(c + (b * S + past) * row, x + b * T * row, x + (b + 1) * T * row);
  }

  attentionForward(
    out: Tensor<'f32'>, q: Tensor<'f32'>, k: Tensor<'f32'>, vv: Tensor<'f32'>,
    B: number, T: number, NH: number, NKV: number, HD: number, past: number, S: number,
  ): void {
    v.checkAttention(this.name, out, q, k, vv, B, T, NH, NKV, HD, past, S);
    const threads = this.pool?.size ?? 1;
    const work = 4 * B * NH * T * (past + (T + 1) / 2) * HD;
    this.withTemp(S * 4 * threads, (scores) => {
      this.par('attentionRange', B * NH, 1, work, (lo, hi) => [ptr(out), ptr(q), ptr(k), ptr(vv), B, T, NH, NKV, HD, past, S, 0, lo, hi],
        { arg: 11, base: scores, stride: S * 4 });
    });
  }

  swigluForward(out: Tensor<'f32'>, gate: Tensor<'f32'>, up: Tensor<'f32'>, N: number): void {
    v.checkElementwise('swigluForward', this.name, out, ['gate', gate], ['up', up], N);
    this.elementwise('swiglu', [ptr(out), ptr(gate), ptr(up)], N);
  }

  residualForward(out: Tensor<'f32'>, inp1: Tensor<'f32'>, inp2: Tensor<'f32'>, N: number): void {
    v.checkElementwise('residualForward', this.name, out, ['inp1', inp1], ['inp2', inp2], N);
    this.elementwise('residual', [ptr(out), ptr(inp1), ptr(inp2)], N);
  }

  lmHeadLogprobsForward(
    out: Tensor<'f32'>, inp: Tensor<'f32'>, wte: Weight, targets: Int32Array, B: number, T: number, C: number, V: number,
  ): void {
    v.checkLmHead(this.name, out, inp, wte, targets, B, T, C, V);
    const N = B * T;
    const VC = Math.min(V, Math.max(8, Math.floor(LM_HEAD_CHUNK_FLOATS / N / 8) * 8));
    const esize = wte.dtype === 'bf16' ? 2 : 4;
    this.withTemp(N * VC * 4, (logits) =>
      this.withTemp(N * 4, (tg) =>
        this.withTemp(N * 24, (state) => {
          new Int32Array(this.k.memory.buffer, tg, N).set(targets);
          this.k.lseInit(state, N);
          for (let v0 = 0; v0 < V; v0 += VC) {
            const vc = Math.min(VC, V - v0);
            this.matmul(logits, ptr(inp), ptr(wte) + v0 * C * esize, N, C, vc, esize === 2 ? 1 : 0);
            this.lseUpdate(state, logits, tg, N, vc, v0);
          }
          this.k.lseFinish(ptr(out), state, N);
        })));
  }

  lmHeadProbsForward(out: Tensor<'f32'>, inp: Tensor<'f32'>, wte: Weight, R: number, C: number, V: number): void {
    v.checkLmHeadProbs(this.name, out, inp, wte, R, C, V);
    this.matmul(ptr(out), ptr(inp), ptr(wte), R, C, V, wte.dtype === 'bf16' ? 1 : 0);
    this.par('softmaxRows', R, 1, R * V * 16, (lo, hi) => [ptr(out) + lo * V * 4, hi - lo, V]);
  }

  sketchForward(
    hidden: Tensor<'f32'>, r: ArrayLike<number>, B: number, T: number, C: number, grail: GrailProfile,
  ): Promise<Int32Array> {
    v.checkSketch(this.name, hidden, r, B, T, C, grail);
    const N = B * T;
    const K = grail.topK;
    const consts = sketchConstants(r, grail);
    return Promise.resolve(this.withTemp(N * 4 + consts.byteLength + 8 * K, (o) => {
      const heap = this.k.memory.buffer;
      new Int32Array(heap, o + N * 4, consts.length).set(consts);
      this.k.sketch(o, ptr(hidden), o + N * 4, N, C, K, consts.length - K, grail.modulus, o + N * 4 + consts.byteLength);
      return new Int32Array(this.k.memory.buffer, o, N).slice();
    }));
  }

  // ---- backward ops (core/compute/backward.ts; kernels in assembly/backward.ts) ----------------------------------

  /** Folds a (N,VC) logits chunk into the logsumexp state, split by rows. */
  private lseUpdate(state: number, logits: number, tg: number, N: number, VC: number, v0: number): void {
    this.par('lseUpdate', N, 1, N * VC * 16, (lo, hi) => [state + lo * 24, logits + lo * VC * 4, tg + lo * 4, hi - lo, VC, v0]);
  }

  /** out (M,C) += a · b (see gemmAcc in assembly/backward.ts), split by columns. */
  private gemmAcc(out: number, a: number, aI: number, aK: number, b: number, bBf16: number, M: number, K: number, C: number): void {
    const bytes = this.k.GEMM_ACC_PACK_BYTES.value as number;
    if (this.gemmScratch === 0) this.gemmScratch = this.arena.alloc(this.threads * bytes);
    this.par('gemmAccRange', C, 8, 2 * M * K * C, (lo, hi) => [out, a, aI, aK, b, bBf16, M, K, C, 0, lo, hi], { arg: 9, base: this.gemmScratch, stride: bytes });
  }

  embeddingBackward(dwte: Tensor<'f32'>, dout: Tensor<'f32'>, tokens: Int32Array, B: number, T: number, C: number): void {
    checkBackwardOp.embedding(this.name, dwte, dout, tokens, B, T, C);
    this.withTemp(tokens.byteLength, (tg) => {
      new Int32Array(this.k.memory.buffer, tg, tokens.length).set(tokens);
      this.k.embeddingBackward(ptr(dwte), ptr(dout), tg, B * T, C);
    });
  }

  rmsnormBackward(
    dinp: Tensor<'f32'>, dweight: Tensor<'f32'>, dout: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Tensor<'f32'>,
    B: number, T: number, C: number, eps: number,
  ): void {
    checkBackwardOp.norm('rmsnormBackward', this.name, dinp, dweight, dout, inp, weight, B * T, C, { B, T, C });
    this.k.rmsnormBackward(ptr(dinp), ptr(dweight), ptr(dout), ptr(inp), ptr(weight), B * T, C, eps);
  }

  matmulBackward(
    dinp: Tensor<'f32'>, dweight: Tensor<'f32'>, dout: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Weight,
    B: number, T: number, C: number, OC: number,
  ): void {
    checkBackwardOp.matmul(this.name, dinp, dweight, dout, inp, weight, B, T, C, OC);
    const N = B * T;
    // dinp (N,C) += dout (N,OC) · weight (OC,C);   dweight (OC,C) += doutᵀ · inp (N,C)
    this.gemmAcc(ptr(dinp), ptr(dout), OC, 1, ptr(weight), weight.dtype === 'bf16' ? 1 : 0, N, OC, C);
    this.gemmAcc(ptr(dweight), ptr(dout), 1, OC, ptr(inp), 0, OC, N, C);
  }

  ropeBackward(dinp: Tensor<'f32'>, dout: Tensor<'f32'>, B: number, T: number, NH: number, HD: number, past: number, theta: number): void {
    checkBackwardOp.rope(this.name, dinp, dout, B, T, NH, HD, past, theta);
    const p = this.ropeTablePtr(HD, theta, past, T);
    this.ropeOp('ropeBackward', ptr(dinp), ptr(dout), p, p + T * HD * 2, B, T, NH, HD);
  }

  qkNormBackward(
    dinp: Tensor<'f32'>, dweight: Tensor<'f32'>, dout: Tensor<'f32'>, inp: Tensor<'f32'>, weight: Tensor<'f32'>,
    B: number, T: number, NH: number, HD: number, eps: number,
  ): void {
    checkBackwardOp.norm('qkNormBackward', this.name, dinp, dweight, dout, inp, weight, B * T * NH, HD, { B, T, NH, HD });
    this.k.rmsnormBackward(ptr(dinp), ptr(dweight), ptr(dout), ptr(inp), ptr(weight), B * T * NH, HD, eps);
  }

  attentionBackward(
    dq: Tensor<'f32'>, dk: Tensor<'f32'>, dv: Tensor<'f32'>, dout: Tensor<'f32'>,
    q: Tensor<'f32'>, k: Tensor<'f32'>, vv: Tensor<'f32'>, B: number, T: number, NH: number, NKV: number, HD: number,
  ): void {
    checkBackwardOp.attention(this.name, dq, dk, dv, dout, q, k, vv, B, T, NH, NKV, HD);
    const threads = this.pool?.size ?? 1;
    const work = 8 * B * NH * T * ((T + 1) / 2) * HD;
    this.withTemp(T * 8 * threads, (scratch) => {
      this.par('attentionBackwardRange', B * NKV, 1, work, (lo, hi) => [
        ptr(dq), ptr(dk), ptr(dv), ptr(dout), ptr(q), ptr(k), ptr(vv), B, T, NH, NKV, HD, 0, lo, hi,
      ], { arg: 12, base: scratch, stride: T * 8 });
    });
  }

  swigluBackward(dgate: Tensor<'f32'>, dup: Tensor<'f32'>, dout: Tensor<'f32'>, gate: Tensor<'f32'>, up: Tensor<'f32'>, N: number): void {
    checkBackwardOp.elementwise('swigluBackward', this.name, [['dgate', dgate], ['dup', dup], ['dout', dout], ['gate', gate], ['up', up]], 2, N);
    this.elementwise('swigluBackward', [ptr(dgate), ptr(dup), ptr(dout), ptr(gate), ptr(up)], N);
  }

  residualBackward(dinp1: Tensor<'f32'>, dinp2: Tensor<'f32'>, dout: Tensor<'f32'>, N: number): void {
    checkBackwardOp.elementwise('residualBackward', this.name, [['dinp1', dinp1], ['dinp2', dinp2], ['dout', dout]], 2, N);
    this.elementwise('residualBackward', [ptr(dinp1), ptr(dinp2), ptr(dout)], N);
  }

  /**
   * Two chunked passes over the vocabulary, as the forward: the logits chunk comes from `matmul`; pass 1 folds it into
   * the logsumexp state, pass 2 turns it into dlogit in place and adds dlogit·wte_chunk to dinp and dlogitᵀ·inp to the
   * chunk's rows of dwte. Rows with dlogprobs = 0 are left out: the others are gathered first (when any is zero).
   */
  lmHeadLogprobsBackward(
    dinp: Tensor<'f32'>, dwte: Tensor<'f32'>, dlogprobs: Tensor<'f32'>, inp: Tensor<'f32'>, wte: Weight,
    targets: Int32Array, B: number, T: number, C: number, V: number,
  ): void {
    checkBackwardOp.lmHead(this.name, dinp, dwte, dlogprobs, inp, wte, targets, B, T, C, V);
    const N = B * T;
    const g = this.f32View(ptr(dlogprobs), N);
    const rows: number[] = [];
    for (let r = 0; r < N; r++) if (g[r] !== 0) rows.push(r);
    const n = rows.length;
    if (n === 0) return;
    const gathered = n < N;
    const VC = Math.min(V, Math.max(8, Math.floor(LM_HEAD_CHUNK_FLOATS / n / 8) * 8));
    const bf16 = wte.dtype === 'bf16' ? 1 : 0;
    const wRow = C * (bf16 ? 2 : 4);
    const at = (bytes: number): number => Math.ceil(bytes / 16) * 16;
    // one temp block: logits (n,VC) | state (n,3) f64 | targets (n) | gathered only: inp rows, dinp rows, dlogprobs
    const oState = at(n * VC * 4), oTg = oState + at(n * 24), oX = oTg + at(n * 4), oDx = oX + at(n * C * 4), oG = oDx + at(n * C * 4);
    this.withTemp(gathered ? oG + n * 4 : oX, (p) => {
      const heap = new Float32Array(this.k.memory.buffer);
      new Int32Array(this.k.memory.buffer, p + oTg, n).set(rows.map((r) => targets[r]!));
      if (gathered) {
        this.k.zero(p + oDx, n * C * 4);
        rows.forEach((r, j) => {
          heap.copyWithin((p + oX) / 4 + j * C, ptr(inp) / 4 + r * C, ptr(inp) / 4 + (r + 1) * C);
          heap[(p + oG) / 4 + j] = heap[ptr(dlogprobs) / 4 + r]!;
        });
      }
      const [x, dx, dlp] = gathered ? [p + oX, p + oDx, p + oG] : [ptr(inp), ptr(dinp), ptr(dlogprobs)];
      const logits = p, state = p + oState, tg = p + oTg;
      this.k.lseInit(state, n);
      for (let v0 = 0; v0 < V; v0 += VC) {
        const vc = Math.min(VC, V - v0);
        this.matmul(logits, x, ptr(wte) + v0 * wRow, n, C, vc, bf16);
        this.lseUpdate(state, logits, tg, n, vc, v0);
      }
      for (let v0 = 0; v0 < V; v0 += VC) {
        const vc = Math.min(VC, V - v0);
        this.matmul(logits, x, ptr(wte) + v0 * wRow, n, C, vc, bf16);
        this.par('lmHeadDlogits', n, 1, n * vc * 16, (lo, hi) => [logits + lo * vc * 4, state + lo * 24, dlp + lo * 4, tg + lo * 4, hi - lo, vc, v0]);
        this.gemmAcc(dx, logits, vc, 1, ptr(wte) + v0 * wRow, bf16, n, vc, C);
        this.gemmAcc(ptr(dwte) + v0 * C * 4, logits, 1, vc, x, 0, vc, n, C);
      }
      if (gathered) {
        rows.forEach((r, j) => this.k.residual(ptr(dinp) + r * C * 4, ptr(dinp) + r * C * 4, dx + j * C * 4, C));
      }
    });
  }
}

/** Reads an AssemblyScript string (UTF-16, byte length at ptr − 4) for abort messages. */
function readString(memory: WebAssembly.Memory, p: number): string {
  if (!p) return '';
  const len = new Uint32Array(memory.buffer, p - 4, 1)[0]! >>> 1;
  return String.fromCharCode(...new Uint16Array(memory.buffer, p, len));
}

function abortWith(memory: () => WebAssembly.Memory | undefined) {
  return (msg: number, file: number, line: number, col: number): never => {
    const m = memory();
    const text = m ? `${readString(m, msg)} at ${readString(m, file)}:${line}:${col}` : 'abort';
    throw new Error(`wasm kernel aborted: ${text}`);
  };
}

/** Instantiates the kernels from the bytes of kernels.wasm (read by the host) and returns a backend over them. */
export async function createWasmBackend(bytes: BufferSource): Promise<WasmBackend> {
  let memory: WebAssembly.Memory | undefined;
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort: abortWith(() => memory) } });
  const k = instance.exports as unknown as KernelExports;
  memory = k.memory;
  return new WasmBackend(k);
}

/** Threads of a threaded wasm backend and how the host starts one. */
export interface WasmThreadOptions {
  /** Threads in all, the calling one included (≥ 1). */
  threads: number;
  /** Starts a helper thread (Node: kernels/wasm/node.ts; a browser: a Web Worker). */
  spawn: SpawnKernelThread;
  /** Work (≈ FLOPs) under which an op stays on the calling thread (default 2²¹; tests pass 0 to split everything). */
  minWork?: number;
}

/**
 * A wasm backend on `threads` threads, from the bytes of kernels-threads.wasm: one shared memory (4 GiB maximum),
 * this thread's instance and `threads − 1` helpers started through `spawn`. Needs SharedArrayBuffer (in a browser:
 * a cross-origin-isolated page); otherwise use `createWasmBackend`. Call `destroy()` to stop the helpers.
 */
export async function createThreadedWasmBackend(bytes: BufferSource, o: WasmThreadOptions): Promise<WasmBackend> {
  if (!Number.isInteger(o.threads) || o.threads < 1) throw new Error(`wasm: threads must be a positive integer, got ${o.threads}`);
  const module = await WebAssembly.compile(bytes);
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
  const instance = await WebAssembly.instantiate(module, { env: { memory, abort: abortWith(() => memory) } });
  const k = { ...(instance.exports as unknown as KernelExports), memory };
  const be = new WasmBackend(k, o.threads, o.minWork ?? PAR_MIN_WORK);
  await be.startThreads(module, o.spawn);
  return be;
}

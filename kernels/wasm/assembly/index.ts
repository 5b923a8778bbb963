// Entry point of the WASM kernels (AssemblyScript). Built by kernels/wasm/build.mjs into kernels/wasm/build/kernels.wasm.
// Every kernel takes byte offsets into the exported linear memory; the host (kernels/wasm/index.ts) allocates above
// heapBase() and grows the memory. The only import is env.abort (and env.memory, shared, in kernels-threads.wasm:
// the same code built for several threads over one memory; each thread runs a `…Range` share of a kernel).

export { matmul, matmulRange, PACK_BYTES } from './matmul';
export { rmsnorm } from './norm';
export { rope } from './rope';
export { attention, attentionRange } from './attention';
export { swiglu, residual, widenBf16, zero } from './elementwise';
export { lseInit, lseUpdate, lseFinish, softmaxRows } from './lmhead';
export { sketch } from './sketch';
export {
  gemmAcc, gemmAccRange, GEMM_ACC_PACK_BYTES, rmsnormBackward, ropeBackward, attentionBackward, attentionBackwardRange,
  swigluBackward, residualBackward,
  embeddingBackward, lmHeadDlogits,
} from './backward';

/** First free byte of linear memory (after static data); the host's allocator starts here. */
export function heapBase(): usize {
  return __heap_base;
}

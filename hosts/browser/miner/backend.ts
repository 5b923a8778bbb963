/**
 * The browser miner's compute backend: WebGPU through `navigator.gpu` when the page gets an adapter, else the WASM
 * kernels (the single-thread kernels.wasm: it needs no SharedArrayBuffer, so it runs on pages without cross-origin
 * isolation). `?backend=wasm` in the page URL skips WebGPU.
 */
import type { ComputeBackend } from '../../../core/compute/backend.ts';
import { createWasmBackend } from '../../../kernels/wasm/index.ts';
import { createWebGPUBackend } from '../../../kernels/webgpu/index.ts';

export interface PickedBackend {
  readonly backend: ComputeBackend;
  readonly kind: 'webgpu' | 'wasm';
  /** What ran and, for the fallback, why WebGPU did not. */
  readonly detail: string;
}

/** WebGPU if allowed and available, else WASM from `wasmUrl`. */
export async function pickBackend(o: { allowWebGPU: boolean; wasmUrl: string }): Promise<PickedBackend> {
  let why = 'disabled by ?backend=wasm';
  if (o.allowWebGPU) {
    try {
      const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
      const be = await createWebGPUBackend(gpu);
      const info = gpu ? await gpu.requestAdapter().then((a) => a?.info) : undefined;
      return { backend: be, kind: 'webgpu', detail: [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' / ') || 'WebGPU adapter' };
    } catch (e) {
      why = e instanceof Error ? e.message : String(e);
    }
  }
  const bytes = await (await fetch(o.wasmUrl)).arrayBuffer();
  return { backend: await createWasmBackend(bytes), kind: 'wasm', detail: `WASM fallback (${why})` };
}

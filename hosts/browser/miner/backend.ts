/**
 * The browser miner's compute backend: WebGPU through `navigator.gpu` when the page gets an adapter, else the WASM
 * kernels. `?backend=wasm` in the page URL skips WebGPU.
 *
 * The WASM fallback runs on several threads (kernels-threads.wasm over one shared memory, helpers on Web Workers:
 * threads.ts) when the page is cross-origin isolated (hosts/browser/serve.ts sends COOP/COEP; shared memory needs it)
 * and `navigator.hardwareConcurrency` > 1: min(hardwareConcurrency, 8) threads, or `?threads=N` (1 = single thread).
 * Otherwise, or when the threaded backend fails to start (a worker refused, no shared memory), it is the
 * single-thread kernels.wasm, which needs neither. Both compute the same bits (kernels/wasm/threads.ts), so the
 * thread count never changes what the miner submits. `detail` says which ran, on how many threads, and why not more.
 */
import type { ComputeBackend } from '../../../core/compute/backend.ts';
import { createThreadedWasmBackend, createWasmBackend } from '../../../kernels/wasm/index.ts';
import type { KernelThread } from '../../../kernels/wasm/threads.ts';
import { createWebGPUBackend } from '../../../kernels/webgpu/index.ts';
import { spawnWebKernelThread } from './threads.ts';

export interface PickedBackend {
  readonly backend: ComputeBackend;
  readonly kind: 'webgpu' | 'wasm';
  /** Threads the backend computes on (1 for WebGPU and the single-thread WASM kernels). */
  readonly threads: number;
  /** What ran and, for the fallback, why WebGPU did not and why not more threads. */
  readonly detail: string;
}

export interface PickBackendOptions {
  allowWebGPU: boolean;
  /** kernels.wasm, the single-thread kernels. */
  wasmUrl: string;
  /** kernels-threads.wasm (absent: the WASM fallback stays single-threaded). */
  threadsWasmUrl?: string;
  /** The page's `?threads=` value, unparsed (null or absent: min(hardwareConcurrency, 8)). */
  threadsParam?: string | null;
}

/** Most threads the page picks by itself (as WASM_AUTO_THREADS_MAX of the Node hosts, kernels/wasm/node.ts). */
export const BROWSER_AUTO_THREADS_MAX = 8;
/** Most threads `?threads=` may ask for. */
const THREADS_PARAM_MAX = 64;
/** How long the helper workers get to start before the page gives up on them (ms). */
const THREADS_START_TIMEOUT_MS = 20_000;

/**
 * Threads the WASM fallback should run on, or why it stays on one: `?threads=N` (1 … 64) when given and well formed,
 * else min(hardwareConcurrency, 8). `note` tells about a `?threads=` value that was ignored.
 */
export function wasmThreadCount(param: string | null | undefined, hardwareConcurrency: number | undefined): { threads: number; why: string; note?: string } {
  const hc = Number.isInteger(hardwareConcurrency) && hardwareConcurrency! > 0 ? hardwareConcurrency! : 1;
  const auto = Math.min(hc, BROWSER_AUTO_THREADS_MAX);
  if (param === null || param === undefined || param === '') return { threads: auto, why: `navigator.hardwareConcurrency is ${hc}` };
  const n = /^\d{1,3}$/.test(param.trim()) ? Number(param.trim()) : NaN;
  if (!(n >= 1 && n <= THREADS_PARAM_MAX)) {
    return { threads: auto, why: `navigator.hardwareConcurrency is ${hc}`, note: `?threads=${param.slice(0, 16)} ignored (1 … ${THREADS_PARAM_MAX})` };
  }
  return { threads: n, why: `?threads=${n}` };
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/**
 * The threaded backend on `threads` threads, its helpers spawned through `spawn`; rejects (with every worker it
 * started terminated) when they have not all started within `timeoutMs`.
 */
async function startThreaded(url: string, threads: number, spawn: (source: string) => KernelThread, timeoutMs: number): Promise<ComputeBackend> {
  const bytes = await fetchBytes(url);
  const started: KernelThread[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the helper workers did not start within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    return await Promise.race([
      createThreadedWasmBackend(bytes, { threads, spawn: (source) => { const th = spawn(source); started.push(th); return th; } }),
      timeout,
    ]);
  } catch (e) {
    for (const th of started) th.terminate();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** The WASM fallback: threaded when the page allows it (see the file comment), else single-threaded. */
async function pickWasm(o: PickBackendOptions, webgpuWhy: string, spawn: (source: string) => KernelThread): Promise<PickedBackend> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const want = wasmThreadCount(o.threadsParam, nav?.hardwareConcurrency);
  const notes = want.note ? `; ${want.note}` : '';
  let why = want.why;
  if (want.threads > 1) {
    if (!o.threadsWasmUrl) why = 'no threaded kernels';
    else if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) why = 'page not cross-origin isolated';
    else if (typeof Worker === 'undefined') why = 'no Web Workers';
    else {
      try {
        const backend = await startThreaded(o.threadsWasmUrl, want.threads, spawn, THREADS_START_TIMEOUT_MS);
        return { backend, kind: 'wasm', threads: want.threads, detail: `threaded WASM, ${want.threads} threads (WebGPU: ${webgpuWhy}${notes})` };
      } catch (e) {
        why = `threaded WASM failed to start: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
  }
  const backend = await createWasmBackend(await fetchBytes(o.wasmUrl));
  return { backend, kind: 'wasm', threads: 1, detail: `single-thread WASM: ${why} (WebGPU: ${webgpuWhy}${notes})` };
}

/** WebGPU if allowed and available, else the WASM kernels (threaded when the page allows it; see the file comment). */
export async function pickBackend(o: PickBackendOptions, spawn: (source: string) => KernelThread = spawnWebKernelThread): Promise<PickedBackend> {
  let why = 'disabled by ?backend=wasm';
  if (o.allowWebGPU) {
    try {
      const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
      const be = await createWebGPUBackend(gpu);
      const info = gpu ? await gpu.requestAdapter().then((a) => a?.info) : undefined;
      return { backend: be, kind: 'webgpu', threads: 1, detail: [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' / ') || 'WebGPU adapter' };
    } catch (e) {
      why = e instanceof Error ? e.message : String(e);
    }
  }
  return pickWasm(o, why, spawn);
}

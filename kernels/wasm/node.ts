/**
 * Node host glue for the wasm backend: finds and reads kernels/wasm/build/kernels.wasm (or kernels-threads.wasm,
 * built together by `node kernels/wasm/build.mjs`). Works from the sources (vitest) and from the esbuild bundle in
 * dist/, by walking up from this module's location (then from the working directory) to the directory that holds
 * kernels/wasm/build. Helper threads are `worker_threads` Workers (unref'd: they never keep the process alive).
 *
 * Threads: this is the one place the Node hosts' wasm backend gets its thread count. Unless a caller passes `threads`,
 * it is `RELIQUARY_WASM_THREADS` (a count, or `auto`) when set, else `auto`: os.availableParallelism() capped at
 * WASM_AUTO_THREADS_MAX (1 on a one-core machine). `RELIQUARY_WASM_THREADS=1` gives the single-thread backend. The
 * thread count never changes a result: every op splits over outputs reduced in a fixed order (kernels/wasm/threads.ts),
 * so a validator and a miner on different thread counts compute the same bits (test/kernels/wasm-threads.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createThreadedWasmBackend, createWasmBackend, type WasmBackend } from './index.ts';
import type { KernelThread } from './threads.ts';

const BUILD = join('kernels', 'wasm', 'build');

/** Path of a built kernel module (default kernels.wasm), or an Error telling how to build it. */
export function wasmPath(file = 'kernels.wasm'): string {
  const rel = join(BUILD, file);
  for (let dir of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (;;) {
      const p = join(dir, rel);
      if (existsSync(p)) return p;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error(`wasm: ${rel} not found; build it with \`node kernels/wasm/build.mjs\` (npm run build:wasm)`);
}

/** A helper thread of the threaded backend on worker_threads. */
export function spawnNodeKernelThread(source: string): KernelThread {
  const code = `const { parentPort } = require('node:worker_threads');
(${source})((f) => parentPort.once('message', f), (m) => parentPort.postMessage(m));`;
  const w = new Worker(code, { eval: true });
  w.unref();
  let handler: ((m: unknown) => void) | undefined;
  w.on('message', (m) => handler?.(m));
  w.on('error', (e) => handler?.({ error: String(e) }));
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (h) => { handler = h; },
    terminate: () => void w.terminate(),
  };
}

/** Environment variable with the default thread count of the Node wasm backend: a positive integer or `auto`. */
export const WASM_THREADS_ENV = 'RELIQUARY_WASM_THREADS';
/**
 * Most threads `auto` picks: the big ops are split 8 out-channels at a time and stream their weights from memory, so
 * past a handful of cores the wake-up cost and the shared memory bandwidth outweigh more threads.
 */
export const WASM_AUTO_THREADS_MAX = 8;

/**
 * The thread count a Node host's wasm backend runs on: `threads` when given, else $RELIQUARY_WASM_THREADS, else
 * `auto` (available cores, at most WASM_AUTO_THREADS_MAX). Throws on a malformed value, naming where it came from.
 * @example wasmThreads('auto', 16) // 8
 */
export function wasmThreads(threads?: number | 'auto', cores = availableParallelism(), env = process.env[WASM_THREADS_ENV]): number {
  const from = threads !== undefined ? 'threads' : env !== undefined && env.trim() !== '' ? WASM_THREADS_ENV : 'default';
  const t: number | string = threads ?? (from === WASM_THREADS_ENV ? env!.trim() : 'auto');
  if (t === 'auto') return Math.max(1, Math.min(cores, WASM_AUTO_THREADS_MAX));
  const n = typeof t === 'number' ? t : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`wasm: ${from} ${JSON.stringify(t)} is not a thread count (1 … 64 or auto)`);
  return n;
}

export interface NodeWasmOptions {
  /** Threads in all, `'auto'` or a count; default $RELIQUARY_WASM_THREADS, else `'auto'` (see wasmThreads). */
  threads?: number | 'auto';
  /** See WasmThreadOptions.minWork. */
  minWork?: number;
}

/** Reads the kernels and instantiates the wasm backend, on wasmThreads(o.threads) threads (kernels.wasm when one). */
export async function createNodeWasmBackend(o: NodeWasmOptions = {}): Promise<WasmBackend> {
  const threads = wasmThreads(o.threads);
  if (threads === 1) return createWasmBackend(readFileSync(wasmPath()));
  return createThreadedWasmBackend(readFileSync(wasmPath('kernels-threads.wasm')), { threads, spawn: spawnNodeKernelThread, ...(o.minWork !== undefined ? { minWork: o.minWork } : {}) });
}

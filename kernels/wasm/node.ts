/**
 * Node host glue for the wasm backend: finds and reads kernels/wasm/build/kernels.wasm (or kernels-threads.wasm,
 * built together by `node kernels/wasm/build.mjs`). Works from the sources (vitest) and from the esbuild bundle in
 * dist/, by walking up from this module's location (then from the working directory) to the directory that holds
 * kernels/wasm/build. Helper threads are `worker_threads` Workers (unref'd: they never keep the process alive).
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

export interface NodeWasmOptions {
  /** Threads in all (default 1: kernels.wasm, no workers); `'auto'` is os.availableParallelism(). */
  threads?: number | 'auto';
  /** See WasmThreadOptions.minWork. */
  minWork?: number;
}

/** Reads the kernels and instantiates the wasm backend, on `threads` threads when more than one. */
export async function createNodeWasmBackend(o: NodeWasmOptions = {}): Promise<WasmBackend> {
  const threads = o.threads === 'auto' ? availableParallelism() : (o.threads ?? 1);
  if (threads === 1) return createWasmBackend(readFileSync(wasmPath()));
  return createThreadedWasmBackend(readFileSync(wasmPath('kernels-threads.wasm')), { threads, spawn: spawnNodeKernelThread, ...(o.minWork !== undefined ? { minWork: o.minWork } : {}) });
}

/**
 * Options of the pyodide sandbox (shared by the async pool and the synchronous runner) and how one sandbox
 * worker thread is started: where pyodide is, the worker's caps, the MessagePort it answers on and the shared
 * counter it bumps after each answer (for `Atomics.wait`).
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { PYTHON_HARNESS, PYTHON_OS_POLICY } from './python-harness.ts';
import { sandboxWorkerSource } from './worker-source.ts';

export interface PyodideSandboxOptions {
  /** Warm interpreters (worker threads) kept loaded. */
  workers: number;
  /** Default time limit of one test (and of the program's first run), ms. */
  testTimeoutMs: number;
  /** Default execution budget of one job (all its tests), ms. */
  budgetMs: number;
  /** Cap on the interpreter's WebAssembly heap, MiB (growth past it is a MemoryError). */
  memoryMb: number;
  /** V8 old-generation heap limit of a worker thread, MiB. */
  heapMb: number;
  /** Bytes of stdout + stderr one request may write; more raises an I/O error in the program. */
  outputBytes: number;
  /** Keep interpreters warm across jobs (true), or start a fresh one for every job (false; benchmarks). */
  reuse: boolean;
  /** Replace a warm interpreter after this many jobs (bounds any slow leak). */
  recycleAfter: number;
  /** `upstream`: the Python policy of python-harness.ts on top of the wall; `none`: the JavaScript wall alone (tests). */
  policy: 'upstream' | 'none';
  /** Time to wait for an interpreter to load before the sandbox is declared down, ms. */
  loadTimeoutMs: number;
}

/** Documented defaults: 2 warm interpreters, 2 s a test, 20 s a job (the profile's code worker timeout), 512 MiB WASM heap. */
export const PYODIDE_SANDBOX_DEFAULTS: Readonly<PyodideSandboxOptions> = Object.freeze({
  workers: 2,
  testTimeoutMs: 2000,
  budgetMs: 20_000,
  memoryMb: 512,
  heapMb: 256,
  outputBytes: 64 * 1024,
  reuse: true,
  recycleAfter: 256,
  policy: 'upstream',
  loadTimeoutMs: 120_000,
});

/** One started worker thread: its port (requests out, replies in) and the counter it bumps per reply. */
export interface SandboxThread {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly signal: Int32Array;
}

const req = createRequire(import.meta.url);

/** The memory snapshot of a freshly initialised interpreter (taken by the first worker of the process). */
let snapshot: Uint8Array | null = null;

/** Keeps the first snapshot a worker posts (`{ snapshot }`); true when `m` was one. */
export function takeSnapshot(m: unknown): boolean {
  const s = (m as { snapshot?: unknown } | null)?.snapshot;
  if (!(s instanceof Uint8Array)) return false;
  snapshot ??= s;
  return true;
}

/** Starts one sandbox worker thread (it loads pyodide, walls itself in and posts `{ ready }` on `port`). */
export function startSandboxThread(o: PyodideSandboxOptions): SandboxThread {
  const pyodideJs = req.resolve('pyodide');
  const pyodideUrl = pathToFileURL(pyodideJs.replace(/pyodide\.js$/, 'pyodide.mjs')).href;
  let wsPath: string | undefined;
  try {
    wsPath = createRequire(pyodideJs).resolve('ws');
  } catch {
    wsPath = undefined;
  }
  const { port1, port2 } = new MessageChannel();
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(sandboxWorkerSource(), {
    eval: true,
    env: {},
    stdout: false,
    stderr: false,
    resourceLimits: { maxOldGenerationSizeMb: o.heapMb, maxYoungGenerationSizeMb: 32 },
    workerData: {
      port: port2,
      signal,
      pyodideUrl,
      indexURL: dirname(pyodideJs) + '/',
      wsPath,
      memoryBytes: o.memoryMb * 1024 * 1024,
      outputBytes: o.outputBytes,
      policy: o.policy,
      snapshot,
      harness: PYTHON_HARNESS,
      osPolicy: PYTHON_OS_POLICY,
    },
    transferList: [port2],
  });
  worker.unref();
  port1.unref();
  return { worker, port: port1, signal };
}

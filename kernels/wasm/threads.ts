/**
 * Kernel threads for the wasm backend: N − 1 helper threads, each with its own instance of kernels-threads.wasm over
 * the one shared linear memory, and the calling thread as thread 0. A parallel op splits its output into N ranges,
 * writes one call record per helper into a control block in that memory, bumps a generation counter (Atomics.notify),
 * runs range 0 itself and waits until every helper has counted itself done. Kernel ops stay synchronous, as on one
 * thread; the split is over outputs that are computed independently (out-channels, heads, columns, rows), so a
 * threaded op equals the single-thread op bit for bit.
 *
 * Runtime-agnostic: the host injects `SpawnKernelThread` (Node: worker_threads, kernels/wasm/node.ts; a browser: a
 * Web Worker from a Blob URL), which runs `THREAD_MAIN` with a way to receive the one init message and to reply.
 * The calling thread blocks in `Atomics.wait` where it may (Node, workers) and spins where it may not (a page's main
 * thread); shared memory itself needs cross-origin isolation in a browser, otherwise use the single-thread backend.
 *
 * Control block (at `ctrl`, 64-byte aligned): i32 [0] generation, [1] helpers done, [2] error flag; from byte 64, one
 * record per helper of RECORD_SLOTS f64: [export index (−1: nothing to do), ...arguments].
 */

/** A started helper thread, as the host hands it over. */
export interface KernelThread {
  postMessage(message: unknown): void;
  /** Registers the handler of the thread's replies (`{ ready: true }` or `{ error }`). */
  onMessage(handler: (message: unknown) => void): void;
  terminate(): void;
}

/**
 * Starts one helper thread running `source`: a JS expression that evaluates to `threadMain(listen, reply)`; the host
 * calls it with `listen(handler)` (the handler gets the init message's data) and `reply(message)`.
 * Node: `(${source})((f) => parentPort.once('message', f), (m) => parentPort.postMessage(m))` in an eval Worker.
 */
export type SpawnKernelThread = (source: string) => KernelThread;

/** f64 slots of one call record: export index, then up to RECORD_SLOTS − 1 arguments. */
const RECORD_SLOTS = 20;
const RECORD_BYTES = RECORD_SLOTS * 8;
const RECORDS_AT = 64;

/** Bytes of the control block for `helpers` helper threads. */
export function controlBytes(helpers: number): number {
  return RECORDS_AT + helpers * RECORD_BYTES;
}

/**
 * The helper's main loop, as source (it runs in a fresh worker, so it may use nothing from this module). It waits on
 * the generation counter, runs its record's call, counts itself done; a kernel error sets the error flag.
 */
export const THREAD_MAIN = `(function threadMain(listen, reply) {
  listen(async (init) => {
    let inst;
    try {
      inst = await WebAssembly.instantiate(init.module, { env: { memory: init.memory, abort() { throw new Error('wasm kernel aborted'); } } });
    } catch (e) {
      reply({ error: String(e) });
      return;
    }
    const fns = init.names.map((n) => inst.exports[n]);
    const ctl = new Int32Array(init.memory.buffer, init.ctrl, 4);
    const r = new Float64Array(init.memory.buffer, init.ctrl + ${RECORDS_AT} + init.index * ${RECORD_BYTES}, ${RECORD_SLOTS});
    reply({ ready: true });
    let seen = Atomics.load(ctl, 0);
    for (;;) {
      Atomics.wait(ctl, 0, seen);
      seen = Atomics.load(ctl, 0);
      const f = r[0];
      if (f >= 0) {
        try {
          fns[f](r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15], r[16], r[17], r[18], r[19]);
        } catch (e) {
          Atomics.store(ctl, 2, 1);
        }
      }
      Atomics.add(ctl, 1, 1);
      Atomics.notify(ctl, 1);
    }
  });
})`;

/** The init message of a helper. */
interface ThreadInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: number;
  index: number;
  names: string[];
}

/** Helper threads over one shared memory, driven from the calling thread (see the file comment). */
export class KernelThreadPool {
  private readonly ctl: Int32Array;
  private readonly rec: Float64Array[];
  private readonly blocking: boolean;
  private closed = false;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    ctrl: number,
    private readonly threads: readonly KernelThread[],
    private readonly names: readonly string[],
  ) {
    this.ctl = new Int32Array(memory.buffer, ctrl, 4);
    this.rec = threads.map((_, i) => new Float64Array(memory.buffer, ctrl + RECORDS_AT + i * RECORD_BYTES, RECORD_SLOTS));
    let blocking = true;
    try {
      Atomics.wait(this.ctl, 3, 1, 0); // throws on a page's main thread
    } catch {
      blocking = false;
    }
    this.blocking = blocking;
  }

  /** Starts `helpers` threads on `module` (kernels-threads.wasm) and resolves once every one has instantiated it. */
  static async start(
    module: WebAssembly.Module, memory: WebAssembly.Memory, ctrl: number, helpers: number, spawn: SpawnKernelThread,
    names: readonly string[],
  ): Promise<KernelThreadPool> {
    const threads: KernelThread[] = [];
    try {
      await Promise.all(Array.from({ length: helpers }, (_, index) => {
        const th = spawn(THREAD_MAIN);
        threads.push(th);
        return new Promise<void>((resolve, reject) => {
          th.onMessage((m) => {
            const msg = m as { ready?: boolean; error?: string };
            if (msg.ready) resolve();
            else reject(new Error(`wasm thread ${index + 1}: ${msg.error ?? 'failed to start'}`));
          });
          const init: ThreadInit = { module, memory, ctrl, index, names: [...names] };
          th.postMessage(init);
        });
      }));
    } catch (e) {
      for (const th of threads) th.terminate();
      throw e;
    }
    return new KernelThreadPool(memory, ctrl, threads, names);
  }

  /** Threads in all, the calling one included. */
  get size(): number {
    return this.threads.length + 1;
  }

  /**
   * Runs `calls[0]` here and `calls[i]` on helper i (an absent call: that helper idles this round), all of export
   * `name`; returns when every one has finished. `run0` is this thread's call of the same export.
   */
  run(name: string, calls: readonly (readonly number[])[], run0: (args: readonly number[]) => void): void {
    if (this.closed) throw new Error('wasm threads: the pool was closed');
    const f = this.names.indexOf(name);
    if (f < 0) throw new Error(`wasm threads: no export ${name}`);
    const ctl = this.ctl;
    for (let i = 0; i < this.threads.length; i++) {
      const r = this.rec[i]!;
      const args = calls[i + 1];
      if (args && args.length >= RECORD_SLOTS) throw new Error(`wasm threads: ${name} takes too many arguments`);
      r[0] = args ? f : -1;
      if (args) for (let j = 0; j < args.length; j++) r[j + 1] = args[j]!;
    }
    Atomics.store(ctl, 1, 0);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    let error: unknown;
    try {
      if (calls[0]) run0(calls[0]);
    } catch (e) {
      error = e;
    }
    const n = this.threads.length;
    for (let d = Atomics.load(ctl, 1); d < n; d = Atomics.load(ctl, 1)) {
      if (this.blocking) Atomics.wait(ctl, 1, d);
    }
    if (error) throw error;
    if (Atomics.exchange(ctl, 2, 0) !== 0) throw new Error(`wasm threads: ${name} aborted in a helper thread`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const th of this.threads) th.terminate();
  }

  /** The shared memory (for hosts that report it). */
  get sharedMemory(): WebAssembly.Memory {
    return this.memory;
  }
}

/**
 * Splits [0, total) into at most `parts` ranges whose inner boundaries are multiples of `align`, as even as that
 * allows; empty ranges are dropped.
 */
export function splitRange(total: number, parts: number, align = 1): Array<[number, number]> {
  const units = Math.ceil(total / align);
  const n = Math.max(1, Math.min(parts, units));
  const out: Array<[number, number]> = [];
  let lo = 0;
  for (let i = 0; i < n; i++) {
    const hi = i === n - 1 ? total : Math.min(total, Math.round((units * (i + 1)) / n) * align);
    if (hi > lo) out.push([lo, hi]);
    lo = hi;
  }
  return out;
}

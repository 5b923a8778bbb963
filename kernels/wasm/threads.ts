/**
 * Kernel threads for the wasm backend: N − 1 helper threads, each with its own instance of kernels-threads.wasm over
 * the one shared linear memory, and the calling thread as thread 0. A parallel op splits its output into chunks
 * (several per thread), writes one argument record per chunk into a control block in that memory, bumps a generation
 * counter (Atomics.notify), and then every thread, the calling one included, claims chunks from a shared counter until
 * none is left; the caller returns once every chunk has been counted done. Claiming instead of a fixed range per
 * thread keeps the threads busy when the chunks cost unequal time, and when a helper is late (descheduled on a busy
 * machine, or still waking up) the others take its share instead of waiting for it.
 *
 * Waiting spins a little before it sleeps (SPIN_LOADS polls, some tens of µs): a forward issues its ops back to back,
 * so a helper that has just finished usually sees the next op before it would have fallen asleep, and the futex
 * wake-ups (tens of µs each, more on a loaded machine) are left to the gaps between forwards.
 *
 * Kernel ops stay synchronous, as on one thread. The split is over outputs that are computed independently
 * (out-channels, heads, columns, rows), each reduced in an order that does not depend on the split, so a threaded op
 * equals the single-thread op bit for bit whatever the thread count or the chunking.
 *
 * Runtime-agnostic: the host injects `SpawnKernelThread` (Node: worker_threads, kernels/wasm/node.ts; a browser: a
 * Web Worker from a Blob URL), which runs `THREAD_MAIN` with a way to receive the one init message and to reply.
 * The calling thread blocks in `Atomics.wait` where it may (Node, workers) and spins where it may not (a page's main
 * thread); shared memory itself needs cross-origin isolation in a browser, otherwise use the single-thread backend.
 *
 * Control block (at `ctrl`, 64-byte aligned), i32 slots: [0] generation (bumped per op: what sleeping helpers wait
 * on), [1] chunks done, [2] error flag, [3] unused (a wait probe), [4] claim counter (chunks << 8) | next chunk,
 * [6] export index, [7] argument slot that gets the claiming thread's scratch (−1: none); f64 at byte 48: scratch of
 * thread 0, at byte 56: scratch stride. From byte 64, one record per chunk of RECORD_SLOTS f64 arguments.
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

/** f64 arguments of one chunk record. */
const RECORD_SLOTS = 20;
const RECORD_BYTES = RECORD_SLOTS * 8;
const RECORDS_AT = 64;
/** Most chunks of one op (the claim counter keeps 8 bits for the next chunk). */
export const MAX_CHUNKS = 128;

/** Bytes of the control block. */
export const CONTROL_BYTES = RECORDS_AT + MAX_CHUNKS * RECORD_BYTES;

/** Where a chunk's call gets the scratch of the thread that runs it: argument `arg` = base + thread · stride. */
export interface ChunkScratch {
  arg: number;
  base: number;
  stride: number;
}

/**
 * Atomics.load polls of a wait before it sleeps in Atomics.wait (some tens of µs): long enough to bridge the gap
 * between two ops of a forward, short enough that idle helpers sleep at once in human terms.
 */
export const SPIN_LOADS = 1 << 14;

/**
 * The claim loop of one thread, as source shared by the helpers and the calling thread: take the next chunk of the
 * current op by compare-and-swap on the claim counter, (chunks << 8) | next, until none is left; give the chunk this
 * thread's scratch, run it, count it done; the thread that completes the op wakes the caller. The counter holds
 * everything a claim needs, and the caller stores it only after the op's records, so a thread that wakes late can
 * only ever claim a chunk of the op that is current, never run one twice. Free variables: ctl, head, recs, tid.
 */
const claimChunksSource = `(call) => {
  for (;;) {
    const v = Atomics.load(ctl, 4);
    const c = v & 0xff, n = v >>> 8;
    if (c >= n) return;
    if (Atomics.compareExchange(ctl, 4, v, v + 1) !== v) continue;
    const r = recs[c], sa = Atomics.load(ctl, 7);
    if (sa >= 0) r[sa] = head[0] + tid * head[1];
    try {
      call(Atomics.load(ctl, 6), r);
    } catch (e) {
      Atomics.store(ctl, 2, 1);
    }
    if (Atomics.add(ctl, 1, 1) + 1 === n) Atomics.notify(ctl, 1);
  }
}`;

/**
 * The helper's main loop, as source (it runs in a fresh worker, so it may use nothing from this module). It waits on
 * the generation counter (spinning first), then claims and runs chunks of that op until none is left; a kernel error
 * sets the error flag. `claimChunks` is the same loop the calling thread runs (KernelThreadPool.run).
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
    const ctl = new Int32Array(init.memory.buffer, init.ctrl, 16);
    const head = new Float64Array(init.memory.buffer, init.ctrl + 48, 2);
    const recs = Array.from({ length: ${MAX_CHUNKS} }, (_, c) => new Float64Array(init.memory.buffer, init.ctrl + ${RECORDS_AT} + c * ${RECORD_BYTES}, ${RECORD_SLOTS}));
    const tid = init.index + 1;
    const claimChunks = ${claimChunksSource};
    reply({ ready: true });
    let seen = Atomics.load(ctl, 0);
    for (;;) {
      for (let i = 0; i < ${SPIN_LOADS} && Atomics.load(ctl, 0) === seen; i++);
      Atomics.wait(ctl, 0, seen);
      seen = Atomics.load(ctl, 0);
      claimChunks((f, r) => fns[f](r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15], r[16], r[17], r[18], r[19]));
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
  private readonly head: Float64Array;
  private readonly recs: Float64Array[];
  private readonly blocking: boolean;
  private readonly claimChunks: (call: (f: number, r: Float64Array) => void) => void;
  private closed = false;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    ctrl: number,
    private readonly threads: readonly KernelThread[],
    private readonly names: readonly string[],
  ) {
    const ctl = (this.ctl = new Int32Array(memory.buffer, ctrl, 16));
    const head = (this.head = new Float64Array(memory.buffer, ctrl + 48, 2));
    const recs = (this.recs = Array.from({ length: MAX_CHUNKS }, (_, c) => new Float64Array(memory.buffer, ctrl + RECORDS_AT + c * RECORD_BYTES, RECORD_SLOTS)));
    // the helpers' loop, with this thread as thread 0
    this.claimChunks = new Function('ctl', 'head', 'recs', 'tid', `return ${claimChunksSource};`)(ctl, head, recs, 0);
    let blocking = true;
    try {
      Atomics.wait(ctl, 3, 1, 0); // throws on a page's main thread
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
   * Runs export `name` once per chunk (`chunks[c]`: its arguments, at most MAX_CHUNKS chunks), on whichever thread
   * claims it, this one included; with `scratch`, argument `scratch.arg` is replaced by the claiming thread's scratch.
   * Returns when every chunk has finished. `call` is this thread's call of the export.
   */
  run(name: string, chunks: readonly (readonly number[])[], scratch: ChunkScratch | undefined, call: (...args: number[]) => void): void {
    if (this.closed) throw new Error('wasm threads: the pool was closed');
    const f = this.names.indexOf(name);
    if (f < 0) throw new Error(`wasm threads: no export ${name}`);
    const n = chunks.length;
    if (n < 1 || n > MAX_CHUNKS) throw new Error(`wasm threads: ${n} chunks (1 … ${MAX_CHUNKS})`);
    const ctl = this.ctl;
    for (let c = 0; c < n; c++) {
      const args = chunks[c]!;
      if (args.length > RECORD_SLOTS) throw new Error(`wasm threads: ${name} takes too many arguments`);
      const r = this.recs[c]!;
      for (let j = 0; j < args.length; j++) r[j] = args[j]!;
    }
    this.head[0] = scratch?.base ?? 0;
    this.head[1] = scratch?.stride ?? 0;
    Atomics.store(ctl, 7, scratch ? scratch.arg : -1);
    Atomics.store(ctl, 6, f);
    Atomics.store(ctl, 1, 0);
    Atomics.store(ctl, 4, n << 8); // opens the claims, now that the records are written
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    let error: unknown;
    this.claimChunks((_, r) => {
      try {
        call(r[0]!, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!, r[6]!, r[7]!, r[8]!, r[9]!, r[10]!, r[11]!, r[12]!, r[13]!, r[14]!, r[15]!, r[16]!, r[17]!, r[18]!, r[19]!);
      } catch (e) {
        error ??= e;
        throw e;
      }
    });
    for (let d = Atomics.load(ctl, 1), i = 0; d < n; d = Atomics.load(ctl, 1), i++) {
      if (this.blocking && i >= SPIN_LOADS) Atomics.wait(ctl, 1, d);
    }
    const failed = Atomics.exchange(ctl, 2, 0) !== 0;
    if (error) throw error;
    if (failed) throw new Error(`wasm threads: ${name} aborted in a helper thread`);
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

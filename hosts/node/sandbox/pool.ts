/**
 * `pyodideSandbox(options)`: the Node implementation of core's `CodeRunner` (core/interfaces/code-runner.ts) —
 * untrusted Python runs in CPython-in-WebAssembly (pyodide) inside worker_threads, so grading never blocks the
 * validator's event loop. A pool of warm interpreters is kept loaded (loading one takes seconds); each job takes
 * one, runs the schedule of ./grading.ts on it and gives it back. A request that overruns its time limit gets
 * its worker terminated and replaced in the background, as does a worker whose interpreter died; jobs beyond the
 * pool size wait in FIFO order. Containment is the worker's (./worker-source.ts), grading honesty the harness's
 * (./python-harness.ts).
 *
 * A job only rejects when the sandbox cannot run at all (closed, or interpreters fail to load repeatedly): a
 * grader outage, the validator's fault.
 *
 * @example
 *   const sandbox = pyodideSandbox({ workers: 2 });
 *   await sandbox.ready();
 *   const env = envCode({ source, runner: sandbox });
 *   // …
 *   await sandbox.close();
 */
import type { CodeJob, CodeRunner, CodeRunResult } from '../../../core/interfaces/code-runner.ts';
import { gradeJob, type StepResult, type WorkerRequest } from './grading.ts';
import { PYODIDE_SANDBOX_DEFAULTS, startSandboxThread, takeSnapshot, type PyodideSandboxOptions, type SandboxThread } from './options.ts';

/** A running sandbox. */
export interface PyodideSandbox extends CodeRunner {
  /** Resolves once every warm interpreter has loaded (rejects if none can). */
  ready(): Promise<void>;
  /** Counters: interpreters started, replaced after a timeout or crash, jobs run. */
  stats(): { readonly started: number; readonly replaced: number; readonly jobs: number };
  /** Terminates every worker; waiting and later jobs reject. */
  close(): Promise<void>;
}

interface Slot {
  readonly thread: SandboxThread;
  state: 'loading' | 'idle' | 'busy' | 'dead';
  jobs: number;
  onReply: ((m: { outcome?: string; detail?: string; ready?: boolean }) => void) | null;
  onDeath: ((detail: string) => void) | null;
}

/** Consecutive failed interpreter loads after which the sandbox is declared down. */
const MAX_LOAD_FAILURES = 3;

/** Starts the pool (interpreters begin loading at once). */
export function pyodideSandbox(options: Partial<PyodideSandboxOptions> = {}): PyodideSandbox {
  const o: PyodideSandboxOptions = { ...PYODIDE_SANDBOX_DEFAULTS, ...options };
  if (!Number.isInteger(o.workers) || o.workers < 1) throw new RangeError(`pyodideSandbox: workers must be a positive integer, got ${o.workers}`);
  const slots = new Set<Slot>();
  const waiters: { resolve: (s: Slot) => void; reject: (e: Error) => void }[] = [];
  let closed = false;
  let downReason: string | null = null;
  let loadFailures = 0;
  let started = 0;
  let replaced = 0;
  let jobs = 0;
  let readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  const settleReady = () => {
    const idle = [...slots].filter((s) => s.state === 'idle' || s.state === 'busy').length;
    if (downReason !== null) readyWaiters.splice(0).forEach((w) => w.reject(new Error(downReason!)));
    else if (idle >= o.workers) readyWaiters.splice(0).forEach((w) => w.resolve());
  };

  const goDown = (why: string) => {
    downReason = why;
    waiters.splice(0).forEach((w) => w.reject(new Error(why)));
    settleReady();
  };

  const handOut = (slot: Slot) => {
    const w = waiters.shift();
    if (w) {
      slot.state = 'busy';
      w.resolve(slot);
    } else slot.state = 'idle';
  };

  function spawn(): void {
    if (closed || downReason !== null) return;
    started++;
    const thread = startSandboxThread(o);
    const slot: Slot = { thread, state: 'loading', jobs: 0, onReply: null, onDeath: null };
    slots.add(slot);
    const loadTimer = setTimeout(() => die(slot, `the interpreter did not load within ${o.loadTimeoutMs} ms`), o.loadTimeoutMs);
    loadTimer.unref();
    thread.port.on('message', (m: { outcome?: string; detail?: string; ready?: boolean }) => {
      if (takeSnapshot(m)) return;
      if (slot.state === 'loading') {
        clearTimeout(loadTimer);
        if (m.ready) {
          loadFailures = 0;
          handOut(slot);
          settleReady();
        } else die(slot, m.detail ?? 'the interpreter failed to load');
        return;
      }
      slot.onReply?.(m);
    });
    const onGone = (detail: string) => {
      clearTimeout(loadTimer);
      die(slot, detail);
    };
    thread.worker.on('error', (e) => onGone(`worker error: ${e.message}`));
    thread.worker.on('exit', (code) => onGone(`worker exited (${code})`));
  }

  /** Marks a slot dead, terminates its thread, and starts a replacement (unless closed or down). */
  function die(slot: Slot, detail: string): void {
    if (slot.state === 'dead') return;
    const wasLoading = slot.state === 'loading';
    slot.state = 'dead';
    slots.delete(slot);
    void slot.thread.worker.terminate();
    slot.thread.port.close();
    slot.onDeath?.(detail);
    if (closed) return;
    if (wasLoading) {
      loadFailures++;
      if (loadFailures >= MAX_LOAD_FAILURES) return goDown(`the sandbox is down: ${detail}`);
    } else replaced++;
    spawn();
  }

  const acquire = (): Promise<Slot> => {
    if (closed) return Promise.reject(new Error('the sandbox is closed'));
    if (downReason !== null) return Promise.reject(new Error(downReason));
    for (const s of slots) {
      if (s.state === 'idle') {
        s.state = 'busy';
        return Promise.resolve(s);
      }
    }
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  };

  /** One request on a busy slot, within its limit; a timeout or a death discards the slot. */
  const call = (slot: Slot, r: WorkerRequest): Promise<StepResult> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const finish = (res: StepResult['reply']) => {
        clearTimeout(timer);
        slot.onReply = null;
        slot.onDeath = null;
        resolve({ reply: res, ms: performance.now() - t0 });
      };
      const timer = setTimeout(() => {
        finish({ kind: 'timeout' });
        die(slot, 'time limit');
      }, r.timeoutMs);
      slot.onReply = (m) => {
        const crashed = m.outcome === 'crash';
        finish(crashed ? { kind: 'crash', detail: m.detail ?? '' } : { kind: 'reply', outcome: String(m.outcome), detail: String(m.detail ?? '') });
        if (crashed) die(slot, m.detail ?? 'crash');
      };
      slot.onDeath = (detail) => finish({ kind: 'crash', detail });
      slot.thread.port.postMessage({ op: r.op, src: r.src });
    });

  const release = (slot: Slot) => {
    if (slot.state !== 'busy') return;
    slot.jobs++;
    if (!o.reuse || slot.jobs >= o.recycleAfter) return die(slot, 'recycled');
    handOut(slot);
  };

  for (let i = 0; i < o.workers; i++) spawn();

  return {
    run: async function runJob(job: CodeJob): Promise<CodeRunResult> {
      const steps = gradeJob(job, o);
      let slot: Slot | null = null;
      let next = steps.next();
      try {
        while (!next.done) {
          if (slot === null || slot.state !== 'busy') slot = await acquire();
          const result = await call(slot, next.value);
          next = steps.next(result);
        }
      } finally {
        if (slot) release(slot);
      }
      jobs++;
      return next.value;
    },
    ready: function ready(): Promise<void> {
      return new Promise((resolve, reject) => {
        readyWaiters.push({ resolve, reject });
        settleReady();
      });
    },
    stats: () => ({ started, replaced, jobs }),
    close: async function close(): Promise<void> {
      closed = true;
      waiters.splice(0).forEach((w) => w.reject(new Error('the sandbox is closed')));
      readyWaiters.splice(0).forEach((w) => w.reject(new Error('the sandbox is closed')));
      const all = [...slots];
      slots.clear();
      for (const s of all) {
        s.state = 'dead';
        s.onDeath?.('the sandbox closed');
      }
      await Promise.all(all.map((s) => s.thread.worker.terminate().catch(() => 0)));
    },
  };
}

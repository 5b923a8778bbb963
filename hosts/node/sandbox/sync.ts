/**
 * `pyodideSandboxSync(options)`: the same sandbox and grading schedule as `pyodideSandbox`, driven
 * synchronously — the caller's thread blocks in `Atomics.wait` while one worker thread runs the program. For
 * batch tools whose interfaces are synchronous (the conformance runner's `code_reward`), never for a server:
 * it blocks the event loop for as long as a job runs (bounded by the job's budget plus one interpreter load).
 *
 * A request that overruns its limit gets its worker terminated and a fresh one started; a worker that dies
 * without answering is seen as a timeout (a synchronous caller cannot observe the exit event).
 *
 * @example
 *   const sb = pyodideSandboxSync();
 *   sb.runSync({ program: 'def f(x):\n    return x', tests: ['assert f(1) == 1'] }).passed; // 1
 *   sb.close();
 */
import { receiveMessageOnPort } from 'node:worker_threads';
import type { CodeJob, CodeRunResult } from '../../../core/interfaces/code-runner.ts';
import { gradeJob, type StepResult } from './grading.ts';
import { PYODIDE_SANDBOX_DEFAULTS, startSandboxThread, takeSnapshot, type PyodideSandboxOptions, type SandboxThread } from './options.ts';

export interface PyodideSandboxSync {
  /** Grades one job, blocking; throws only when no interpreter can be loaded (an outage). */
  runSync(job: CodeJob): CodeRunResult;
  close(): void;
}

type Msg = { ready?: boolean; outcome?: string; detail?: string };

/** Waits up to `timeoutMs` for the next message of `t`; null on timeout. */
function nextMessage(t: SandboxThread, timeoutMs: number): Msg | null {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const seen = Atomics.load(t.signal, 0);
    const m = receiveMessageOnPort(t.port);
    if (m) return m.message as Msg;
    const left = end - performance.now();
    if (left <= 0) return null;
    Atomics.wait(t.signal, 0, seen, left);
  }
}

/** A synchronous sandbox with one interpreter (loaded on first use). */
export function pyodideSandboxSync(options: Partial<PyodideSandboxOptions> = {}): PyodideSandboxSync {
  const o: PyodideSandboxOptions = { ...PYODIDE_SANDBOX_DEFAULTS, ...options, workers: 1 };
  let thread: SandboxThread | null = null;

  const discard = () => {
    if (thread) {
      void thread.worker.terminate();
      thread.port.close();
    }
    thread = null;
  };
  const live = (): SandboxThread => {
    if (thread) return thread;
    const t = startSandboxThread(o);
    const end = performance.now() + o.loadTimeoutMs;
    let ready = nextMessage(t, o.loadTimeoutMs);
    while (ready && takeSnapshot(ready)) ready = nextMessage(t, end - performance.now());
    if (!ready?.ready) {
      void t.worker.terminate();
      throw new Error(`the sandbox is down: ${ready?.detail ?? `no interpreter loaded within ${o.loadTimeoutMs} ms`}`);
    }
    return (thread = t);
  };

  return {
    runSync: function runSync(job: CodeJob): CodeRunResult {
      const steps = gradeJob(job, o);
      let next = steps.next();
      while (!next.done) {
        const t = live();
        const r = next.value;
        const t0 = performance.now();
        t.port.postMessage({ op: r.op, src: r.src });
        const m = nextMessage(t, r.timeoutMs);
        let result: StepResult;
        if (m === null) {
          discard();
          result = { reply: { kind: 'timeout' }, ms: performance.now() - t0 };
        } else if (m.outcome === 'crash') {
          discard();
          result = { reply: { kind: 'crash', detail: m.detail ?? '' }, ms: performance.now() - t0 };
        } else {
          result = { reply: { kind: 'reply', outcome: String(m.outcome), detail: String(m.detail ?? '') }, ms: performance.now() - t0 };
        }
        next = steps.next(result);
      }
      return next.value;
    },
    close: discard,
  };
}

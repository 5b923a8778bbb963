/**
 * Helper threads of the threaded wasm backend in a browser: each one a dedicated Web Worker whose script (a Blob URL,
 * so the bundle needs no second file) runs `THREAD_MAIN` of kernels/wasm/threads.ts, the way kernels/wasm/node.ts runs
 * it on worker_threads: `listen(handler)` hands the handler the one init message's data (module, shared memory,
 * control block), `reply(message)` posts back. A worker that fails to load or run reports `{ error }` through the same
 * handler, so the pool's start rejects instead of waiting forever. The Blob URL is revoked once the worker has
 * answered (or failed, or been terminated): not at once, as a browser may fetch a worker's script after `new Worker`
 * returns. Needs a cross-origin-isolated page: the shared memory can only be posted to a worker there.
 */
import type { KernelThread, SpawnKernelThread } from '../../../kernels/wasm/threads.ts';

/** The worker's script around `source` (a JS expression evaluating to `threadMain(listen, reply)`). */
export function kernelWorkerScript(source: string): string {
  return `'use strict';
(${source})((h) => { self.onmessage = (e) => { self.onmessage = null; h(e.data); }; }, (m) => self.postMessage(m));
`;
}

/** A helper thread of the threaded wasm backend on a Web Worker (see the file comment). */
export const spawnWebKernelThread: SpawnKernelThread = (source: string): KernelThread => {
  const url = URL.createObjectURL(new Blob([kernelWorkerScript(source)], { type: 'text/javascript' }));
  let revoked = false;
  const revoke = (): void => {
    if (!revoked) URL.revokeObjectURL(url);
    revoked = true;
  };
  let w: Worker;
  try {
    w = new Worker(url, { name: 'wasm-kernel-thread' });
  } catch (e) {
    revoke();
    throw e;
  }
  let handler: ((m: unknown) => void) | undefined;
  w.onmessage = (e: MessageEvent) => {
    revoke();
    handler?.(e.data);
  };
  w.onerror = (e: ErrorEvent) => {
    revoke();
    e.preventDefault();
    handler?.({ error: e.message || 'worker failed to load' });
  };
  w.onmessageerror = () => handler?.({ error: 'a message from the worker could not be read' });
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (h) => { handler = h; },
    terminate: () => {
      revoke();
      w.terminate();
    },
  };
};

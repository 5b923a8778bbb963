/**
 * `withRetry(op, policy)`: runs `op` until it succeeds, a failure is not retryable, or `attempts` are spent, sleeping
 * `min(maxBackoffMs, backoffMs · 2^(n−1))` scaled by a random factor in [0.5, 1) (decorrelated jitter) between
 * attempts. The sleep is injected (tests pass a recording one) and an abort signal ends the wait at once.
 */
import { classifyS3Error, type Classified } from './errors.ts';

export interface RetryPolicy {
  /** Requests in all, the first included (≥ 1). */
  attempts: number;
  /** Wait before the second attempt; doubles after each failure. */
  backoffMs: number;
  /** Ceiling of one wait. */
  maxBackoffMs: number;
  /** Waits `ms`; rejects when `signal` aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform [0, 1), for the jitter. */
  random: () => number;
}

/** The outcome of a failed `withRetry`: the last failure, classified, and how many attempts were made. */
export class RetriesExhausted extends Error {
  override readonly name = 'RetriesExhausted';
  constructor(readonly last: unknown, readonly classified: Classified, readonly attempts: number) {
    super(classified.detail, { cause: last });
  }
}

/** Runs `op(attempt)` under `policy`; throws `RetriesExhausted` carrying the last failure. */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (signal?.aborted) throw abortError(signal);
      return await op(attempt);
    } catch (e) {
      const c = signal?.aborted ? classifyS3Error(abortError(signal)) : classifyS3Error(e);
      if (!c.retryable || attempt >= policy.attempts) throw new RetriesExhausted(e, c, attempt);
      const wait = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1)) * (0.5 + policy.random() / 2);
      try {
        await policy.sleep(wait, signal);
      } catch {
        throw new RetriesExhausted(abortError(signal), classifyS3Error(abortError(signal)), attempt);
      }
    }
  }
}

/** A timer sleep that rejects as soon as `signal` aborts. */
export function timerSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort(): void {
      clearTimeout(t);
      reject(abortError(signal));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason = signal?.reason;
  const e = new Error(reason instanceof Error ? reason.message : 'aborted');
  e.name = 'AbortError';
  return e;
}

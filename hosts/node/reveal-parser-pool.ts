/**
 * `revealParserPool(options)`: the Node implementation of core's `RevealParser` seam (core/protocol/reveal-body.ts)
 * — reveal bodies are parsed in `worker_threads`, off the validator's event loop, each within a time budget and a
 * heap limit. Give `pool.parse` to `MarketValidator` as `parseReveal`.
 *
 * Per body: the size cap is checked here (it needs no parse); the worker runs core's `jsonBoundsViolation`
 * (nesting depth and value count of the profile, one linear scan) and then `JSON.parse`, and posts the value
 * back. A worker that overruns its budget is terminated and replaced, and the body gets BAD_SCHEMA ("parsing took
 * longer than …"); a worker that dies (e.g. over its heap limit) likewise. So a hostile body costs the validator at
 * most one worker for the budget, never its event loop. Jobs beyond the pool size wait in FIFO order.
 *
 * The worker's source is built from `jsonBoundsViolation.toString()` (a function without free variables) and run
 * with `eval: true`, so it works from the TypeScript sources (vitest) and from the esbuild bundle alike.
 *
 * @example
 *   const pool = revealParserPool({ profile: DEVNET });
 *   const v = new MarketValidator({ ...options, parseReveal: pool.parse });
 *   // …
 *   await pool.close();
 */
import { Worker } from 'node:worker_threads';
import type { Profile } from '../../core/profile/index.ts';
import type { ParseResult } from '../../core/protocol/wire.ts';
import { Reason, reject } from '../../core/protocol/reasons.ts';
import { jsonBoundsViolation, revealBounds, revealTooLarge, type RevealParser } from '../../core/protocol/reveal-body.ts';

export interface RevealParserPoolOptions {
  /** Reveal cap, depth and value bounds come from it. */
  profile: Profile;
  /** Worker threads (default 2). */
  workers: number;
  /** Time budget of one parse, ms (default: the profile's smallest env `workerTimeoutSeconds`). */
  timeBudgetMs: number | undefined;
  /** Heap limit of a worker, MiB (default 1024). */
  maxOldGenerationSizeMb: number;
}

/** Documented defaults; `revealParserPool` merges its options over these (`profile` is required). */
export const REVEAL_PARSER_POOL_DEFAULTS: Readonly<Omit<RevealParserPoolOptions, 'profile'>> = Object.freeze({
  workers: 2,
  timeBudgetMs: undefined,
  maxOldGenerationSizeMb: 1024,
});

/** A running pool. */
export interface RevealParserPool {
  readonly parse: RevealParser;
  /** Workers replaced after a budget overrun or a crash (telemetry). */
  readonly replaced: number;
  /** Terminates every worker; pending and later parses get BAD_SCHEMA. */
  close(): Promise<void>;
}

type Reply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly message: string };
interface Job {
  readonly id: number;
  readonly body: Uint8Array;
  readonly resolve: (r: ParseResult<unknown>) => void;
}
interface Slot {
  worker: Worker;
  job: Job | null;
  timer: ReturnType<typeof setTimeout> | null;
}

/** The worker program: bounds scan, strict UTF-8 decode, JSON.parse; one job at a time. */
function workerSource(): string {
  return `
const { parentPort, workerData } = require('node:worker_threads');
const jsonBoundsViolation = ${jsonBoundsViolation.toString()};
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
parentPort.on('message', ({ id, body }) => {
  const bad = jsonBoundsViolation(body, workerData.maxDepth, workerData.maxSeparators);
  if (bad !== null) return parentPort.postMessage({ id, ok: false, message: bad });
  let text;
  try { text = utf8.decode(body); } catch { return parentPort.postMessage({ id, ok: false, message: 'body is not valid UTF-8' }); }
  let value;
  try { value = JSON.parse(text); } catch (e) { return parentPort.postMessage({ id, ok: false, message: 'invalid JSON: ' + String(e && e.message).slice(0, 160) }); }
  parentPort.postMessage({ id, ok: true, value });
});`;
}

/** Starts `options.workers` parser threads for `options.profile`. */
export function revealParserPool(options: Partial<RevealParserPoolOptions> & Pick<RevealParserPoolOptions, 'profile'>): RevealParserPool {
  const o: RevealParserPoolOptions = { ...REVEAL_PARSER_POOL_DEFAULTS, ...options };
  const { profile } = o;
  const budgetMs = o.timeBudgetMs ?? 1000 * Math.min(...Object.values(profile.environments).map((e) => e.workerTimeoutSeconds));
  if (!(Number.isInteger(o.workers) && o.workers >= 1)) throw new RangeError(`revealParserPool: workers must be a positive integer, got ${o.workers}`);
  if (!(budgetMs > 0)) throw new RangeError(`revealParserPool: timeBudgetMs must be positive, got ${budgetMs}`);
  const source = workerSource();
  const bounds = revealBounds(profile);
  const queue: Job[] = [];
  let nextId = 0;
  let replaced = 0;
  let closed = false;

  const badSchema = (message: string): ParseResult<unknown> => ({ ok: false, rejection: reject(Reason.BAD_SCHEMA, message) });

  /** Starts a fresh worker in `slot`; events of a worker the slot no longer holds are ignored. */
  function attach(slot: Slot): void {
    const worker = new Worker(source, { eval: true, workerData: bounds, resourceLimits: { maxOldGenerationSizeMb: o.maxOldGenerationSizeMb } });
    worker.unref();
    slot.worker = worker;
    worker.on('message', (reply: Reply) => {
      if (slot.worker !== worker || !slot.job || reply.id !== slot.job.id) return;
      settle(slot, reply.ok ? { ok: true, value: reply.value } : badSchema(reply.message));
      pump();
    });
    const died = (why: string): void => {
      if (slot.worker !== worker) return;
      settle(slot, badSchema(`the parser worker failed on this body (${why})`));
      replace(slot);
    };
    worker.on('error', (e) => died(e instanceof Error ? e.message : String(e)));
    worker.on('exit', (code) => died(`exit code ${code}`));
  }

  /** Terminates the slot's worker and starts another (after an overrun or a crash). */
  function replace(slot: Slot): void {
    const old = slot.worker;
    if (!closed) attach(slot);
    void old.terminate();
    replaced++;
    pump();
  }

  /** Resolves the slot's job (if any) with `result` and frees the slot. */
  function settle(slot: Slot, result: ParseResult<unknown>): void {
    const job = slot.job;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
    job?.resolve(result);
  }

  const slots: Slot[] = Array.from({ length: o.workers }, () => {
    const slot = { worker: null, job: null, timer: null } as unknown as Slot;
    attach(slot);
    return slot;
  });

  function pump(): void {
    if (closed) return;
    for (const slot of slots) {
      if (slot.job || queue.length === 0) continue;
      const job = queue.shift()!;
      slot.job = job;
      slot.timer = setTimeout(() => {
        if (slot.job !== job) return;
        settle(slot, badSchema(`parsing took longer than ${budgetMs} ms; the body was refused and its parser stopped`));
        replace(slot);
      }, budgetMs);
      slot.worker.postMessage({ id: job.id, body: job.body });
    }
  }

  const parse: RevealParser = function parseRevealInWorker(body) {
    const tooLarge = revealTooLarge(body, profile);
    if (tooLarge) return Promise.resolve({ ok: false, rejection: tooLarge });
    if (closed) return Promise.resolve(badSchema('the reveal parser pool is closed'));
    return new Promise((resolve) => {
      queue.push({ id: nextId++, body, resolve });
      pump();
    });
  };

  return {
    parse,
    get replaced() {
      return replaced;
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.resolve(badSchema('the reveal parser pool is closed'));
      for (const slot of slots) settle(slot, badSchema('the reveal parser pool is closed'));
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
